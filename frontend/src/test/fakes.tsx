// In-memory fakes for component tests: a fetch that answers from a route table, and a WebSocket that never connects.
import { vi } from 'vitest';
import { render } from '@testing-library/react';
import { App, makeQueryClient } from '../App';

export type Handler = (req: { url: URL; method: string; body: unknown; headers: Record<string, string>; params: Record<string, string> }) => Response | Promise<Response>;

export const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' } });
export const problem = (status: number, detail: string, errors?: Record<string, string[]>) =>
  json({ status, title: status === 400 ? 'The request is invalid' : 'Error', detail, errors }, status);
const notFound = () => json({ status: 404, title: 'Not Found' }, 404);

/** The handler for a request: an exact "METHOD /path" key first, then keys with `:name` segments. */
function findRoute(routes: Record<string, Handler>, method: string, path: string): { handler: Handler; params: Record<string, string> } | null {
  const exact = routes[`${method} ${path}`];
  if (exact) return { handler: exact, params: {} };
  const parts = path.split('/');
  for (const [key, handler] of Object.entries(routes)) {
    const [m, pattern] = key.split(' ');
    if (m !== method || !pattern.includes(':')) continue;
    const want = pattern.split('/');
    if (want.length !== parts.length) continue;
    const params: Record<string, string> = {};
    if (want.every((w, i) => (w.startsWith(':') ? ((params[w.slice(1)] = decodeURIComponent(parts[i])), true) : w === parts[i]))) return { handler, params };
  }
  return null;
}

/** Routes keyed "METHOD /path" (no query; `:name` segments match anything); unknown routes answer 404 like a server without that endpoint. */
export function fakeApi(routes: Record<string, Handler>) {
  const calls: { method: string; url: string; auth?: string; csrf?: string; credentials?: RequestCredentials }[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), 'http://wirety.test');
    const method = init?.method ?? 'GET';
    const headers = (init?.headers ?? {}) as Record<string, string>;
    calls.push({ method, url: url.pathname + url.search, auth: headers.Authorization, csrf: headers['X-Wirety-CSRF'], credentials: init?.credentials });
    const found = findRoute(routes, method, url.pathname);
    if (!found) return notFound();
    return found.handler({ url, method, body: init?.body ? JSON.parse(String(init.body)) : undefined, headers, params: found.params });
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

/** The app at `path`; whether someone is signed in is up to the fake `GET /api/v1/me` (the session cookie is the browser's). */
export function renderApp(path = '/') {
  vi.stubGlobal('WebSocket', FakeSocket);
  FakeSocket.instances = [];
  sessionStorage.clear();
  window.history.pushState({}, '', path);
  const client = makeQueryClient();
  client.setDefaultOptions({ queries: { ...client.getDefaultOptions().queries, retry: false } });
  return render(<App client={client} />);
}

/** `GET /api/v1/me` of a UI session; `networkIds` null = every network. */
export const me = (over: object = {}) => ({
  id: 't1', name: 'someone', kind: 'token', role: 'admin', networkIds: null, csrfToken: 'csrf-0123456789', ...over,
});

export const network = (over: object = {}) => ({
  id: 'n1', name: 'corp', cidr: '10.10.0.0/24', domain: null, dns: [], mtu: null, version: 3,
  createdAt: '2026-11-01T10:00:00Z', updatedAt: '2026-11-01T10:00:00Z',
  peers: { total: 2, jump: 1, dynamic: 1, static: 0, blocked: 0 }, ipam: { total: 254, used: 2, free: 252 },
  defaultPolicy: 'allow', allowDnsEndpoints: false, ...over,
});
export const peer = (over: object = {}) => ({
  id: 'p1', networkId: 'n1', name: 'hub', kind: 'jump', address: '10.10.0.1', publicKey: 'k', enrolled: true,
  endpoint: 'vpn.example.com:51820', listenPort: 51820, isolated: false, fullEncapsulation: false, additionalAllowedIps: [],
  blocked: false, blockReason: null, createdAt: '2026-11-01T10:00:00Z', updatedAt: '2026-11-01T10:00:00Z', observedEndpoint: null, ...over,
});

// --- segmentation: groups, policies, routes, the default policy, what-if and reachability ---

type Ref = { id: string; name: string };
type Targets = { groups: string[]; peers: string[] };
type TargetRefs = { groups: Ref[]; peers: Ref[] };
export type FakePair = { from: Ref; to: Ref; ports: string[] };
export type FakePreview = { gained: FakePair[]; lost: FakePair[]; configsChanged: number; truncated: boolean };
const T0 = '2026-11-01T10:00:00Z';

export const group = (over: object = {}) => ({ id: 'g1', networkId: 'n1', name: 'devs', description: null as string | null, members: [] as Ref[], createdAt: T0, updatedAt: T0, ...over });
export const policy = (over: object = {}) => ({
  id: 'pol1', networkId: 'n1', name: 'ssh', description: null as string | null,
  sources: { groups: [{ id: 'g1', name: 'devs' }], peers: [] } as TargetRefs, destinations: { groups: [], peers: [{ id: 'p3', name: 'db' }] } as TargetRefs, ports: ['tcp/22'],
  createdAt: T0, updatedAt: T0, ...over,
});
export const route = (over: object = {}) => ({
  id: 'r1', networkId: 'n1', cidr: '192.168.50.0/24', via: { id: 'p3', name: 'db' }, groups: [] as Ref[], exitNode: false, createdAt: T0, ...over,
});
export const pair = (from: Ref, to: Ref, ports: string[] = []): FakePair => ({ from, to, ports });
const noContent = () => new Response(null, { status: 204 });

/**
 * An in-memory server for one network's segmentation (network n1, CIDR 10.10.0.0/24), for `fakeApi`.
 * It keeps what the UI writes (`state`) and every write it received (`writes`); `preview` answers the
 * what-if endpoint (by default: nothing changes). A route covering the network's CIDR is refused with a
 * 409 problem, like the server.
 */
export function fakeSegmentation(init: {
  peers?: Ref[]; groups?: ReturnType<typeof group>[]; policies?: ReturnType<typeof policy>[]; routes?: ReturnType<typeof route>[];
  pairs?: FakePair[]; defaultPolicy?: 'allow' | 'deny'; preview?: (body: unknown) => FakePreview; network?: object;
} = {}) {
  const state = {
    peers: init.peers ?? [], groups: init.groups ?? [], policies: init.policies ?? [], routes: init.routes ?? [],
    pairs: init.pairs ?? [], defaultPolicy: init.defaultPolicy ?? 'allow',
  };
  const writes: { method: string; path: string; body: unknown }[] = [];
  let next = 100;
  const base = '/api/v1/networks/n1';
  const peerRef = (id: string) => state.peers.find(p => p.id === id) ?? { id, name: id };
  // Policies are written with ids and read back with names, as the server does.
  const groupRef = (id: string) => state.groups.find(g => g.id === id) ? { id, name: state.groups.find(g => g.id === id)!.name } : { id, name: id };
  const refs = (t: Targets): TargetRefs => ({ groups: t.groups.map(groupRef), peers: t.peers.map(peerRef) });
  const named = (b: { sources?: Targets; destinations?: Targets }) => ({
    ...b, ...(b.sources && { sources: refs(b.sources) }), ...(b.destinations && { destinations: refs(b.destinations) }),
  });
  const record: (h: Handler) => Handler = h => req => { writes.push({ method: req.method, path: req.url.pathname, body: req.body }); return h(req); };
  const nameProblem = (name: unknown) => (typeof name === 'string' && /^[a-z0-9][a-z0-9-]*$/i.test(name) ? null
    : problem(400, 'The request is invalid.', { name: ['name must be letters, digits and hyphens.'] }));
  const routes: Record<string, Handler> = {
    [`GET ${base}`]: () => json(network({ defaultPolicy: state.defaultPolicy, ...init.network })),
    [`PATCH ${base}`]: record(({ body }) => {
      const b = body as { defaultPolicy?: 'allow' | 'deny' };
      if (b.defaultPolicy) state.defaultPolicy = b.defaultPolicy;
      return json(network({ defaultPolicy: state.defaultPolicy, ...init.network }));
    }),
    [`GET ${base}/groups`]: () => json(state.groups),
    [`POST ${base}/groups`]: record(({ body }) => {
      const b = body as { name: string; description?: string };
      const bad = nameProblem(b.name);
      if (bad) return bad;
      const g = group({ id: `g${next++}`, name: b.name, description: b.description ?? null });
      state.groups.push(g);
      return json(g, 201);
    }),
    [`PATCH ${base}/groups/:id`]: record(({ params, body }) => {
      const g = state.groups.find(x => x.id === params.id);
      if (!g) return problem(404, `There is no group ${params.id}.`);
      Object.assign(g, body);
      return json(g);
    }),
    [`DELETE ${base}/groups/:id`]: record(({ params }) => { state.groups = state.groups.filter(x => x.id !== params.id); return noContent(); }),
    [`PUT ${base}/groups/:id/members`]: record(({ params, body }) => {
      const g = state.groups.find(x => x.id === params.id);
      if (!g) return problem(404, `There is no group ${params.id}.`);
      g.members = (body as { peerIds: string[] }).peerIds.map(peerRef);
      return json(g);
    }),
    [`GET ${base}/policies`]: () => json(state.policies),
    [`POST ${base}/policies`]: record(({ body }) => {
      const bad = nameProblem((body as { name: string }).name);
      if (bad) return bad;
      const p = policy({ ...named(body as object), id: `pol${next++}` });
      state.policies.push(p);
      return json(p, 201);
    }),
    [`PATCH ${base}/policies/:id`]: record(({ params, body }) => {
      const p = state.policies.find(x => x.id === params.id);
      if (!p) return problem(404, `There is no policy ${params.id}.`);
      Object.assign(p, named(body as object));
      return json(p);
    }),
    [`DELETE ${base}/policies/:id`]: record(({ params }) => { state.policies = state.policies.filter(x => x.id !== params.id); return noContent(); }),
    [`POST ${base}/policies/preview`]: record(({ body }) => {
      const draft = (body as { add?: { name: unknown }[] }).add?.[0];
      const bad = draft ? nameProblem(draft.name) : null;
      return bad ?? json(init.preview ? init.preview(body) : { gained: [], lost: [], configsChanged: 0, truncated: false });
    }),
    [`GET ${base}/reachability`]: () => json({ networkId: 'n1', defaultPolicy: state.defaultPolicy, pairs: state.pairs, total: state.pairs.length, truncated: false }),
    [`GET ${base}/routes`]: () => json(state.routes),
    [`POST ${base}/routes`]: record(({ body }) => {
      const b = body as { cidr: string; via: string; groups?: string[] };
      if (b.cidr === '10.10.0.0/24')
        return problem(409, `The route ${b.cidr} covers the network's own range 10.10.0.0/24; routes never may.`);
      const r = route({ id: `r${next++}`, cidr: b.cidr, via: peerRef(b.via), groups: (b.groups ?? []).map(id => state.groups.find(g => g.id === id) ?? { id, name: id }) });
      state.routes.push(r);
      return json(r, 201);
    }),
    [`DELETE ${base}/routes/:id`]: record(({ params }) => { state.routes = state.routes.filter(x => x.id !== params.id); return noContent(); }),
  };
  return { routes, state, writes };
}
