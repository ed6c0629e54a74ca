// The Wirety API as the UI uses it: typed shapes, a fetch wrapper that adds the bearer token and turns
// RFC 7807 problem details into ApiError (with the per-field `errors` map for forms).

export type PeerKind = 'jump' | 'dynamic' | 'static';
export type Role = 'admin' | 'analyst' | 'viewer';

export interface Capacity { total: number; used: number; free: number }
export interface NetworkView {
  id: string; name: string; cidr: string; domain: string | null; dns: string[]; mtu: number | null; version: number;
  createdAt: string; updatedAt: string;
  peers: { total: number; jump: number; dynamic: number; static: number; blocked: number };
  ipam: Capacity;
  /** What traffic no policy mentions does; absent on servers without segmentation (= allow). */
  defaultPolicy?: DefaultPolicy;
}
export interface PeerView {
  id: string; networkId: string; name: string; kind: PeerKind; address: string; publicKey: string | null; enrolled: boolean;
  endpoint: string | null; listenPort: number | null; isolated: boolean; fullEncapsulation: boolean; additionalAllowedIps: string[];
  blocked: boolean; blockReason: string | null; createdAt: string; updatedAt: string;
  /** Where the agent was last seen from; `endpoint` is the configured one (jump peers). */
  observedEndpoint: string | null;
  /** The groups the peer belongs to (servers without segmentation leave it out). */
  groups?: Ref[];
  enrollmentToken?: string; enrollmentTokenExpiresAt?: string; config?: string;
}
export interface Presence { peerId: string; online: boolean; lastSeen: string | null }
export interface IpamView extends Capacity { cidr: string; allocations: { address: string; peerId: string; peerName?: string }[] }
export interface Actor { tokenId?: string; name?: string; kind?: string; id?: string }
export interface Evidence { heartbeatId: string; at: string; sessionId: string; sourceAddress: string; endpoint: string | null }
export type IncidentType = 'sessionConflict' | 'sharedConfig' | 'suspiciousActivity';
export interface Incident {
  id: string; networkId: string; peerId: string; type: IncidentType; state: 'open' | 'resolved'; summary: string;
  evidence: Evidence[]; detectedAt: string; resolvedAt: string | null; resolvedBy: Actor | null; resolutionNote: string | null;
  unblocked: boolean;
}
export interface Me { tokenId: string; name: string; role: Role }
export interface StoredEvent { sequence: number; streamId?: string; version?: number; type: string; timestamp: string; actor: Actor | null; data: unknown }
export interface EventPage { items: StoredEvent[]; next: number | null }
export interface TimelineItem {
  sequence: number; timestamp: string; type: string; actor: Actor | null; summary: string;
  subject: { kind: 'network' | 'peer' | 'incident' | 'token' | 'group' | 'policy' | 'route'; id: string; name: string } | null;
}
export interface TimelinePage { items: TimelineItem[]; next: number | null }
export interface NetworkState {
  at: { sequence: number; timestamp: string }; network: NetworkView; peers: PeerView[]; ipam: IpamView | Capacity;
  blocked: string[]; openIncidents: Incident[];
}

// --- segmentation: groups, policies, the default policy, reachability and routes ---

export type DefaultPolicy = 'allow' | 'deny';
/** A peer or group named in another view. */
export interface Ref { id: string; name: string }
export interface GroupView { id: string; networkId: string; name: string; description: string | null; members: Ref[]; createdAt: string; updatedAt: string }
/** One side of a policy as it is written: group ids and peer ids. */
export interface PolicyTargets { groups: string[]; peers: string[] }
/** One side of a policy as the server reads it back: the groups and peers named. */
export interface PolicyTargetsView { groups: Ref[]; peers: Ref[] }
/** A policy as the editor sends it. `ports` empty = every protocol and port. */
export interface PolicyDraft { name: string; description?: string | null; sources: PolicyTargets; destinations: PolicyTargets; ports: string[] }
export interface PolicyView {
  id: string; networkId: string; name: string; description: string | null;
  sources: PolicyTargetsView; destinations: PolicyTargetsView; ports: string[]; createdAt: string; updatedAt: string;
}
/** The ids of a side as read back, to write it again (tolerates plain ids). */
export const targetIds = (t: PolicyTargetsView | PolicyTargets): PolicyTargets => ({
  groups: t.groups.map(g => (typeof g === 'string' ? g : g.id)),
  peers: t.peers.map(p => (typeof p === 'string' ? p : p.id)),
});
/** One direction of allowed traffic: `from` may open connections to `to` on `ports` (empty = everything). */
export interface ReachPair { from: Ref; to: Ref; ports: string[] }
export interface PreviewRequest {
  add?: PolicyDraft[]; remove?: string[]; update?: (Partial<PolicyDraft> & { id: string })[]; defaultPolicy?: DefaultPolicy;
}
export interface PolicyPreview { gained: ReachPair[]; lost: ReachPair[]; configsChanged: number; truncated: boolean }
export interface Reachability { networkId: string; defaultPolicy: DefaultPolicy; pairs: ReachPair[]; total: number; truncated: boolean }
export interface RouteView { id: string; networkId: string; cidr: string; via: Ref; groups: Ref[]; exitNode: boolean; createdAt: string }

export interface Problem { type?: string; title?: string; status?: number; detail?: string; errors?: Record<string, string[]> }

export class ApiError extends Error {
  constructor(public readonly status: number, public readonly problem: Problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = 'ApiError';
  }
  /** Messages for one field of a validation problem (keys compared case-insensitively). */
  field(name: string): string[] {
    const errors = this.problem.errors ?? {};
    const key = Object.keys(errors).find(k => k.toLowerCase() === name.toLowerCase());
    return key ? errors[key] : [];
  }
}

export const isStatus = (e: unknown, status: number) => e instanceof ApiError && e.status === status;

const TOKEN_KEY = 'wirety.token';
export const tokenStore = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (token: string) => sessionStorage.setItem(TOKEN_KEY, token),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** Called when the server answers 401 (token revoked or expired): the app signs out. */
let onUnauthorized: () => void = () => {};
export const setUnauthorizedHandler = (f: () => void) => { onUnauthorized = f; };

export interface RequestOptions { method?: string; body?: unknown; accept?: string; signal?: AbortSignal; token?: string }

export async function request(path: string, opts: RequestOptions = {}): Promise<Response> {
  const token = opts.token ?? tokenStore.get();
  const headers: Record<string, string> = { Accept: opts.accept ?? 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method: opts.method ?? 'GET', headers, signal: opts.signal,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  if (!response.ok) {
    let problem: Problem = { status: response.status, title: response.statusText };
    try {
      const text = await response.text();
      if (text) problem = { ...problem, ...JSON.parse(text) };
    } catch { /* not JSON: keep the status line */ }
    if (response.status === 401 && !opts.token) onUnauthorized();
    throw new ApiError(response.status, problem);
  }
  return response;
}

export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const response = await request(path, opts);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const apiText = async (path: string, opts: RequestOptions = {}) => (await request(path, opts)).text();

/** `GET /api/v1/me`: the token's id, name and role. */
export const fetchMe = (token?: string) => api<Me>('/api/v1/me', { token });

export const qs = (params: Record<string, string | number | boolean | null | undefined | string[]>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) { if (v.length) s.set(k, v.join(',')); } else s.set(k, String(v));
  }
  const text = s.toString();
  return text ? `?${text}` : '';
};

export const keys = {
  me: ['me'] as const,
  networks: ['networks'] as const,
  network: (id: string) => ['network', id] as const,
  peers: (id: string) => ['peers', id] as const,
  presence: (id: string) => ['presence', id] as const,
  ipam: (id: string) => ['ipam', id] as const,
  incidents: (filter?: object) => (filter ? ['incidents', filter] : ['incidents']) as readonly unknown[],
  incident: (id: string) => ['incident', id] as const,
  timeline: (id: string) => ['timeline', id] as const,
  security: (id: string) => ['security', id] as const,
  groups: (id: string) => ['groups', id] as const,
  policies: (id: string) => ['policies', id] as const,
  routes: (id: string) => ['routes', id] as const,
  /** `at` (event sequence or ISO-8601) for a past point; the prefix without it covers every point. */
  reachability: (id: string, at?: string) => (at ? ['reachability', id, at] : ['reachability', id]) as readonly unknown[],
};

const net = (networkId: string) => `/api/v1/networks/${networkId}`;

/** The segmentation endpoints of one network. */
export const segmentation = {
  setDefaultPolicy: (networkId: string, defaultPolicy: DefaultPolicy) =>
    api<NetworkView>(net(networkId), { method: 'PATCH', body: { defaultPolicy } }),

  groups: (networkId: string) => api<GroupView[]>(`${net(networkId)}/groups`),
  createGroup: (networkId: string, body: { name: string; description?: string }) =>
    api<GroupView>(`${net(networkId)}/groups`, { method: 'POST', body }),
  updateGroup: (networkId: string, groupId: string, body: { name?: string; description?: string }) =>
    api<GroupView>(`${net(networkId)}/groups/${groupId}`, { method: 'PATCH', body }),
  deleteGroup: (networkId: string, groupId: string) => api<void>(`${net(networkId)}/groups/${groupId}`, { method: 'DELETE' }),
  setMembers: (networkId: string, groupId: string, peerIds: string[]) =>
    api<GroupView>(`${net(networkId)}/groups/${groupId}/members`, { method: 'PUT', body: { peerIds } }),

  policies: (networkId: string) => api<PolicyView[]>(`${net(networkId)}/policies`),
  createPolicy: (networkId: string, body: PolicyDraft) => api<PolicyView>(`${net(networkId)}/policies`, { method: 'POST', body }),
  updatePolicy: (networkId: string, policyId: string, body: Partial<PolicyDraft>) =>
    api<PolicyView>(`${net(networkId)}/policies/${policyId}`, { method: 'PATCH', body }),
  deletePolicy: (networkId: string, policyId: string) => api<void>(`${net(networkId)}/policies/${policyId}`, { method: 'DELETE' }),
  /** What a change would do, without doing it (appends nothing). */
  preview: (networkId: string, body: PreviewRequest) =>
    api<PolicyPreview>(`${net(networkId)}/policies/preview`, { method: 'POST', body }),

  reachability: (networkId: string, at?: string) => api<Reachability>(`${net(networkId)}/reachability${qs({ at })}`),

  routes: (networkId: string) => api<RouteView[]>(`${net(networkId)}/routes`),
  addRoute: (networkId: string, body: { cidr: string; via: string; groups?: string[] }) =>
    api<RouteView>(`${net(networkId)}/routes`, { method: 'POST', body }),
  deleteRoute: (networkId: string, routeId: string) => api<void>(`${net(networkId)}/routes/${routeId}`, { method: 'DELETE' }),
};
