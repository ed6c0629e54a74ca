import { describe, expect, it } from 'vitest';
import { layout, tunnels } from './topology';
import { peer } from '../test/fakes';
import type { PeerView } from './api';

const p = (over: Partial<PeerView>) => peer(over) as PeerView;
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
});
