import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, renderHook } from '@testing-library/react';
import { QueryClient } from '@tanstack/react-query';
import { CREDENTIAL_ENDED, useLiveChannel } from './live';

/** A stand-in for the browser's WebSocket: records instances so a test can close them as the server would. */
class FakeSocket {
  static opened: FakeSocket[] = [];
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  constructor(public url: string) { FakeSocket.opened.push(this); }
  close() {}
}

describe('live channel closes', () => {
  afterEach(() => { vi.useRealTimers(); vi.unstubAllGlobals(); FakeSocket.opened = []; });

  it('reconnects after an ordinary close but not after the server ends the token (1008)', () => {
    vi.useFakeTimers();
    vi.stubGlobal('WebSocket', FakeSocket);
    const client = new QueryClient();
    const { result } = renderHook(() => useLiveChannel(client, 'identity-1'));
    expect(FakeSocket.opened).toHaveLength(1);

    act(() => FakeSocket.opened[0].onclose!({ code: 1006 }));
    expect(result.current).toBe('offline');
    act(() => { vi.advanceTimersByTime(1000); });
    expect(FakeSocket.opened).toHaveLength(2);

    act(() => FakeSocket.opened[1].onclose!({ code: CREDENTIAL_ENDED }));
    expect(result.current).toBe('ended');
    act(() => { vi.advanceTimersByTime(60_000); });
    expect(FakeSocket.opened).toHaveLength(2);
  });
});
