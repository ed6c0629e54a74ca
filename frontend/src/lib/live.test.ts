import { describe, expect, it } from 'vitest';
import { QueryClient } from '@tanstack/react-query';
import { applyNotice, backoff, liveUrl, staleKeys } from './live';
import { keys } from './api';

describe('live channel', () => {
  it('follows the page scheme and puts no credential in the address (the session cookie goes with the upgrade)', () => {
    expect(liveUrl({ protocol: 'https:', host: 'w.example' })).toBe('wss://w.example/api/v1/ws');
    expect(liveUrl({ protocol: 'http:', host: '127.0.0.1:8080' })).toBe('ws://127.0.0.1:8080/api/v1/ws');
  });

  it('backs off from half a second, doubling, up to 15 s', () => {
    expect([0, 1, 2, 3, 10].map(backoff)).toEqual([500, 1000, 2000, 4000, 15000]);
  });

  it('maps each notice to the queries it makes stale', () => {
    expect(staleKeys({ type: 'ready' })).toBe('all');
    expect(staleKeys({ type: 'peer-changed', networkId: 'n', peerId: 'p', change: 'blocked' })).toContainEqual(keys.peers('n'));
    expect(staleKeys({ type: 'incident-detected', incidentId: 'i', networkId: 'n', peerId: 'p', incidentType: 'sessionConflict' }))
      .toEqual(expect.arrayContaining([keys.incidents(), keys.incident('i'), keys.peers('n')]));
    expect(staleKeys({ type: 'network-changed', networkId: 'n', version: 4 })).toContainEqual(keys.networks);
    // Groups, policies and routes live in the network's stream: its notice makes them and reachability stale.
    expect(staleKeys({ type: 'network-changed', networkId: 'n', version: 5 }))
      .toEqual(expect.arrayContaining([keys.groups('n'), keys.policies('n'), keys.routes('n'), keys.reachability('n')]));
  });

  it('flips presence in the cache at once and marks other queries stale', () => {
    const client = new QueryClient();
    client.setQueryData(keys.presence('n'), [{ peerId: 'p', online: false, lastSeen: null }, { peerId: 'q', online: false, lastSeen: null }]);
    client.setQueryData(keys.peers('n'), []);
    applyNotice(client, { type: 'peer-online', networkId: 'n', peerId: 'p' });
    const presence = client.getQueryData<{ peerId: string; online: boolean }[]>(keys.presence('n'))!;
    expect(presence.map(p => p.online)).toEqual([true, false]);
    expect(client.getQueryState(keys.peers('n'))?.isInvalidated).toBe(false);
    applyNotice(client, { type: 'peer-changed', networkId: 'n', peerId: 'p', change: 'endpoint' });
    expect(client.getQueryState(keys.peers('n'))?.isInvalidated).toBe(true);
  });
});
