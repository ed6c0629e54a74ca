// In-memory fakes for component tests: a fetch that answers from a route table, and a WebSocket that never connects.
import { vi } from 'vitest';
import { render } from '@testing-library/react';
import { App, makeQueryClient } from '../App';

export type Handler = (req: { url: URL; method: string; body: unknown; headers: Record<string, string> }) => Response | Promise<Response>;

export const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' } });
export const problem = (status: number, detail: string, errors?: Record<string, string[]>) =>
  json({ status, title: status === 400 ? 'The request is invalid' : 'Error', detail, errors }, status);
const notFound = () => json({ status: 404, title: 'Not Found' }, 404);

/** Routes keyed "METHOD /path" (no query); unknown routes answer 404 like a server without that endpoint. */
export function fakeApi(routes: Record<string, Handler>) {
  const calls: { method: string; url: string; auth?: string }[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), 'http://wirety.test');
    const method = init?.method ?? 'GET';
    const headers = (init?.headers ?? {}) as Record<string, string>;
    calls.push({ method, url: url.pathname + url.search, auth: headers.Authorization });
    const handler = routes[`${method} ${url.pathname}`];
    if (!handler) return notFound();
    return handler({ url, method, body: init?.body ? JSON.parse(String(init.body)) : undefined, headers });
  });
  vi.stubGlobal('fetch', fetchMock);
  return { calls, fetchMock };
}

export class FakeSocket {
  static instances: FakeSocket[] = [];
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(public url: string) { FakeSocket.instances.push(this); }
  close() {}
  send() {}
  emit(notice: object) { this.onmessage?.({ data: JSON.stringify(notice) }); }
}

export function renderApp(path = '/', { token }: { token?: string } = {}) {
  vi.stubGlobal('WebSocket', FakeSocket);
  FakeSocket.instances = [];
  if (token) sessionStorage.setItem('wirety.token', token); else sessionStorage.clear();
  window.history.pushState({}, '', path);
  const client = makeQueryClient();
  client.setDefaultOptions({ queries: { ...client.getDefaultOptions().queries, retry: false } });
  return render(<App client={client} />);
}

export const network = (over: object = {}) => ({
  id: 'n1', name: 'corp', cidr: '10.10.0.0/24', domain: null, dns: [], mtu: null, version: 3,
  createdAt: '2026-11-01T10:00:00Z', updatedAt: '2026-11-01T10:00:00Z',
  peers: { total: 2, jump: 1, dynamic: 1, static: 0, blocked: 0 }, ipam: { total: 254, used: 2, free: 252 }, ...over,
});
export const peer = (over: object = {}) => ({
  id: 'p1', networkId: 'n1', name: 'hub', kind: 'jump', address: '10.10.0.1', publicKey: 'k', enrolled: true,
  endpoint: 'vpn.example.com:51820', listenPort: 51820, isolated: false, fullEncapsulation: false, additionalAllowedIps: [],
  blocked: false, blockReason: null, createdAt: '2026-11-01T10:00:00Z', updatedAt: '2026-11-01T10:00:00Z', observedEndpoint: null, ...over,
});
