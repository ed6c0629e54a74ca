import '@testing-library/jest-dom/vitest';

// jsdom lacks ResizeObserver, which the graph view (@xyflow/react) needs; a no-op is enough here.
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
} as unknown as typeof ResizeObserver;
