// Which tunnels exist, from the peer list — the same rules the server's configs follow (README "Config rules"):
// every non-blocked peer has a tunnel to each jump peer; two non-isolated dynamic peers tunnel directly once
// both endpoints are known; a blocked peer has no tunnels at all. With segmentation, `allowedLinks` keeps
// only what policy allows between the non-jump peers (the reachability endpoint says who may reach whom).
import type { PeerView, ReachPair } from './api';

export type TopoNode = { id: string; name: string; kind: PeerView['kind']; address: string; blocked: boolean; online: boolean; x: number; y: number };
/** `relay`: the two may talk, but not directly (one cannot mesh), so their traffic goes through the jump. */
export interface TopoEdge {
  id: string; source: string; target: string; kind: 'jump' | 'mesh' | 'relay';
  /** Allowed directions, for `mesh`/`relay` links drawn from reachability. */
  directions?: ReachPair[];
}

/** The configured endpoint (jump peers) or the one its agent was seen at. */
export const reachableEndpoint = (p: PeerView) => p.endpoint ?? p.observedEndpoint ?? null;

/** A peer takes part in tunnels once it has a key (static peers have one from creation). */
const hasKey = (p: PeerView) => p.enrolled;

export function tunnels(peers: PeerView[]): TopoEdge[] {
  const live = peers.filter(p => !p.blocked && hasKey(p));
  const jumps = live.filter(p => p.kind === 'jump');
  const edges: TopoEdge[] = [];
  for (const p of live) {
    if (p.kind === 'jump') continue;
    for (const j of jumps) edges.push({ id: `j:${j.id}:${p.id}`, source: j.id, target: p.id, kind: 'jump' });
  }
  // Jump peers also reach each other.
  for (let i = 0; i < jumps.length; i++)
    for (let k = i + 1; k < jumps.length; k++)
      edges.push({ id: `j:${jumps[i].id}:${jumps[k].id}`, source: jumps[i].id, target: jumps[k].id, kind: 'jump' });
  const mesh = live.filter(p => p.kind === 'dynamic' && !p.isolated && reachableEndpoint(p));
  for (let i = 0; i < mesh.length; i++)
    for (let k = i + 1; k < mesh.length; k++)
      edges.push({ id: `m:${mesh[i].id}:${mesh[k].id}`, source: mesh[i].id, target: mesh[k].id, kind: 'mesh' });
  return edges;
}

const meshable = (p: PeerView) => p.kind === 'dynamic' && !p.isolated && !!reachableEndpoint(p);

/**
 * The links policy allows: tunnels to and between jump peers as before (they relay for everyone); between two
 * other peers one link when either may open connections to the other — direct when both mesh, else relayed.
 */
export function allowedLinks(peers: PeerView[], pairs: ReachPair[]): TopoEdge[] {
  const edges = tunnels(peers).filter(e => e.kind === 'jump');
  const order = new Map(peers.map((p, i) => [p.id, i]));
  const live = new Map(peers.filter(p => !p.blocked && hasKey(p) && p.kind !== 'jump').map(p => [p.id, p]));
  const byPair = new Map<string, TopoEdge>();
  for (const pair of pairs) {
    const a = live.get(pair.from.id);
    const b = live.get(pair.to.id);
    if (!a || !b || a.id === b.id) continue;
    // Ordered like `tunnels` (peer list order), so a link keeps its id whether or not policy applies.
    const [x, y] = order.get(a.id)! < order.get(b.id)! ? [a, b] : [b, a];
    const kind = meshable(x) && meshable(y) ? 'mesh' : 'relay';
    const id = `${kind === 'mesh' ? 'm' : 'r'}:${x.id}:${y.id}`;
    const edge = byPair.get(id) ?? { id, source: x.id, target: y.id, kind, directions: [] };
    edge.directions!.push(pair);
    byPair.set(id, edge);
  }
  return [...edges, ...[...byPair.values()].sort((e, f) => order.get(e.source)! - order.get(f.source)! || order.get(e.target)! - order.get(f.target)!)];
}

/** Jump peers as hubs in the middle, everyone else on a ring around them; stable for the same peers. */
export function layout(peers: PeerView[], online: (id: string) => boolean, radius = 260): TopoNode[] {
  const jumps = peers.filter(p => p.kind === 'jump');
  const others = peers.filter(p => p.kind !== 'jump');
  const hubSpacing = 160;
  const node = (p: PeerView, x: number, y: number): TopoNode =>
    ({ id: p.id, name: p.name, kind: p.kind, address: p.address, blocked: p.blocked, online: online(p.id), x, y });
  const ringRadius = Math.max(radius, (others.length * 90) / (2 * Math.PI));
  return [
    ...jumps.map((p, i) => node(p, (i - (jumps.length - 1) / 2) * hubSpacing, 0)),
    ...others.map((p, i) => {
      const angle = (2 * Math.PI * i) / Math.max(others.length, 1) - Math.PI / 2;
      return node(p, Math.round(ringRadius * Math.cos(angle)), Math.round(ringRadius * Math.sin(angle)));
    }),
  ];
}
