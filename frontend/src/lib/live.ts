// The live channel (`/api/v1/ws`): notices tell the UI what changed so it refetches exactly that.
import { useEffect, useState } from 'react';
import type { QueryClient, QueryKey } from '@tanstack/react-query';
import { keys, type Presence } from './api';

export type LiveNotice =
  | { type: 'ready' }
  | { type: 'network-changed'; networkId: string; version: number }
  | { type: 'peer-changed'; networkId: string; peerId: string; change: string }
  | { type: 'incident-detected'; incidentId: string; networkId: string; peerId: string; incidentType: string }
  | { type: 'incident-resolved'; incidentId: string; networkId: string; peerId: string }
  | { type: 'peer-online' | 'peer-offline'; networkId: string; peerId: string };

/** The query keys (prefixes) a notice makes stale. `ready` (after a (re)connect) makes everything stale. */
export function staleKeys(n: LiveNotice): QueryKey[] | 'all' {
  switch (n.type) {
    case 'ready': return 'all';
    case 'network-changed':
      return [keys.networks, keys.network(n.networkId), keys.peers(n.networkId), keys.ipam(n.networkId),
        keys.timeline(n.networkId), keys.security(n.networkId), ['state', n.networkId],
        keys.groups(n.networkId), keys.policies(n.networkId), keys.routes(n.networkId), keys.reachability(n.networkId)];
    case 'peer-changed':
      // A peer's change (blocked, removed, its endpoint) also changes group members, routes via it and reachability.
      return [keys.peers(n.networkId), keys.network(n.networkId), keys.networks, keys.presence(n.networkId), keys.ipam(n.networkId),
        keys.groups(n.networkId), keys.routes(n.networkId), keys.reachability(n.networkId)];
    case 'incident-detected':
    case 'incident-resolved':
      return [keys.incidents(), keys.incident(n.incidentId), keys.peers(n.networkId), keys.network(n.networkId), keys.networks];
    case 'peer-online':
    case 'peer-offline':
      return [keys.presence(n.networkId)];
    default: return [];
  }
}

/** Applies a notice to the cache: presence flips at once, everything else is refetched. */
export function applyNotice(client: QueryClient, n: LiveNotice) {
  if (n.type === 'peer-online' || n.type === 'peer-offline') {
    const online = n.type === 'peer-online';
    client.setQueryData<Presence[]>(keys.presence(n.networkId), list =>
      list?.map(p => (p.peerId === n.peerId ? { ...p, online, lastSeen: online ? new Date().toISOString() : p.lastSeen } : p)));
  }
  const stale = staleKeys(n);
  if (stale === 'all') void client.invalidateQueries();
  else for (const queryKey of stale) void client.invalidateQueries({ queryKey });
}

/** `ended`: the server closed the channel for its credential (1008: the session or token ended); no reconnect. */
export type LiveStatus = 'connecting' | 'live' | 'offline' | 'ended';

/** WebSocket close code the server uses when the credential behind a socket is revoked or expires. */
export const CREDENTIAL_ENDED = 1008;

/** Delay before reconnect attempt `n` (0-based): 0.5 s doubling to 15 s. */
export const backoff = (attempt: number) => Math.min(15_000, 500 * 2 ** attempt);

/**
 * The channel's address: no credential in it. The browser sends the session cookie with the upgrade (same origin,
 * which the server checks), so nothing secret lands in URLs, proxies' logs or the browser's history.
 */
export function liveUrl(location: Pick<Location, 'protocol' | 'host'> = window.location) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/api/v1/ws`;
}

/**
 * Keeps one socket open while `identity` (the signed-in identity's id) is set; reconnects with backoff and
 * refetches after each `ready`. A new identity opens a new socket.
 */
export function useLiveChannel(client: QueryClient, identity: string | null): LiveStatus {
  const [status, setStatus] = useState<LiveStatus>('connecting');
  useEffect(() => {
    if (!identity) return;
    let socket: WebSocket | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    let stopped = false;
    const connect = () => {
      setStatus('connecting');
      socket = new WebSocket(liveUrl());
      socket.onmessage = e => {
        let notice: LiveNotice;
        try { notice = JSON.parse(String(e.data)); } catch { return; }
        if (notice.type === 'ready') { attempt = 0; setStatus('live'); }
        applyNotice(client, notice);
      };
      socket.onclose = e => {
        socket = null;
        if (stopped) return;
        if (e.code === CREDENTIAL_ENDED) { setStatus('ended'); return; }
        setStatus('offline');
        timer = setTimeout(connect, backoff(attempt++));
      };
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      socket?.close();
    };
  }, [client, identity]);
  return status;
}
