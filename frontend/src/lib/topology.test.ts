import { describe, expect, it } from 'vitest';
import { allowedLinks, layout, tunnels } from './topology';
import { peer } from '../test/fakes';
import type { PeerView } from './api';

const p = (over: Partial<PeerView>) => ({ groups: [], ...peer(over) }) as PeerView;
const jump = p({ id: 'j', name: 'hub', kind: 'jump' });

describe('topology', () => {
  it('links every peer with a key to each jump, and jumps with each other', () => {
    const peers = [jump, p({ id: 'j2', kind: 'jump' }), p({ id: 's', kind: 'static', endpoint: null })];
    expect(tunnels(peers).map(e => e.id).sort()).toEqual(['j:j2:s', 'j:j:j2', 'j:j:s'].sort());
  });

  it('meshes two non-isolated dynamic peers directly only once both endpoints are known', () => {
    const a = p({ id: 'a', kind: 'dynamic', endpoint: null, observedEndpoint: '198.51.100.1:51820' });
    const b = p({ id: 'b', kind: 'dynamic', endpoint: null, observedEndpoint: null });
    expect(tunnels([jump, a, b]).filter(e => e.kind === 'mesh')).toEqual([]);
    const known = { ...b, observedEndpoint: '198.51.100.2:51820' };
    expect(tunnels([jump, a, known]).filter(e => e.kind === 'mesh').map(e => e.id)).toEqual(['m:a:b']);
    const isolated = { ...known, isolated: true };
    expect(tunnels([jump, a, isolated]).filter(e => e.kind === 'mesh')).toEqual([]);
  });

  it('gives a blocked or not yet enrolled peer no tunnels at all', () => {
    const blocked = p({ id: 'x', kind: 'dynamic', blocked: true, observedEndpoint: '198.51.100.3:1' });
    const fresh = p({ id: 'y', kind: 'dynamic', enrolled: false, publicKey: null });
    const edges = tunnels([jump, blocked, fresh]);
    expect(edges.filter(e => [e.source, e.target].some(id => id === 'x' || id === 'y'))).toEqual([]);
  });

  it('puts jump peers in the middle and the others on a ring', () => {
    const nodes = layout([jump, p({ id: 'a', kind: 'dynamic' }), p({ id: 'b', kind: 'static', blocked: true })], id => id === 'a');
    const byId = Object.fromEntries(nodes.map(n => [n.id, n]));
    expect([byId.j.x, byId.j.y]).toEqual([0, 0]);
    expect(Math.hypot(byId.a.x, byId.a.y)).toBeGreaterThan(200);
    expect(byId.a.online).toBe(true);
    expect(byId.b.blocked).toBe(true);
  });

  it('draws between non-jump peers only the links policy allows, jump tunnels as before', () => {
    const a = p({ id: 'a', name: 'laptop', kind: 'dynamic', endpoint: null, observedEndpoint: '198.51.100.1:51820' });
    const b = p({ id: 'b', name: 'db', kind: 'dynamic', endpoint: null, observedEndpoint: '198.51.100.2:51820' });
    const s = p({ id: 's', name: 'phone', kind: 'static', endpoint: null });
    const x = p({ id: 'x', name: 'old', kind: 'dynamic', blocked: true, observedEndpoint: '198.51.100.3:1' });
    const ref = (q: PeerView) => ({ id: q.id, name: q.name });
    const peers = [jump, a, b, s, x];
    // Nothing allowed: only the tunnels to the jump.
    expect(allowedLinks(peers, []).map(e => e.id).sort()).toEqual(['j:j:a', 'j:j:b', 'j:j:s'].sort());
    // One direction is enough for a link; both directions make one link; a relayed pair is marked so.
    const links = allowedLinks(peers, [
      { from: ref(a), to: ref(b), ports: ['tcp/22'] }, { from: ref(b), to: ref(a), ports: [] },
      { from: ref(s), to: ref(b), ports: ['udp/53'] },
      { from: ref(x), to: ref(a), ports: [] }, // a blocked peer has no links, whatever policy says
    ]).filter(e => e.kind !== 'jump');
    expect(links.map(e => [e.id, e.kind])).toEqual([['m:a:b', 'mesh'], ['r:b:s', 'relay']]);
    expect(links[0].directions).toHaveLength(2);
    // Without policy data the old rule applies: a–b mesh, no link to the static peer.
    expect(tunnels(peers).filter(e => e.kind === 'mesh').map(e => e.id)).toEqual(['m:a:b']);
  });
});
