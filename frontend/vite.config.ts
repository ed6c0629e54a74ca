/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  server: {
    // `npm run dev` next to `make run`: the API (and its WebSocket) come from the real server.
    proxy: { '/api': { target: 'http://127.0.0.1:8080', ws: true } },
  },
  build: { sourcemap: false, chunkSizeWarningLimit: 400 },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    restoreMocks: true,
    unstubGlobals: true,
    setupFiles: ['src/test/setup.ts'],
    // A hang guard, not a speed check: on a loaded 2-core CI machine a jsdom test that types into a form
    // can take several seconds, and the 5 s default failed one that passes in under one when idle.
    testTimeout: 30_000,
  },
});
