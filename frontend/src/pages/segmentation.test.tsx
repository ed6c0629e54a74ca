import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { fakeApi, fakeSegmentation, group, json, network, pair, peer, policy, problem, renderApp } from '../test/fakes';

afterEach(() => { cleanup(); sessionStorage.clear(); });

const hub = { id: 'p1', name: 'hub' };
const laptop = { id: 'p2', name: 'laptop' };
const db = { id: 'p3', name: 'db' };
const phone = { id: 'p4', name: 'phone' };
const peerList = () => [
  peer(),
  peer({ id: 'p2', name: 'laptop', kind: 'dynamic', address: '10.10.0.2', endpoint: null, observedEndpoint: '198.51.100.7:51820', groups: [{ id: 'g1', name: 'devs' }] }),
  peer({ id: 'p3', name: 'db', kind: 'dynamic', address: '10.10.0.3', endpoint: null, observedEndpoint: '198.51.100.8:51820' }),
  peer({ id: 'p4', name: 'phone', kind: 'static', address: '10.10.0.4', endpoint: null }),
];

function serve(init: Parameters<typeof fakeSegmentation>[0] = {}, role = 'admin') {
  const seg = fakeSegmentation({ peers: [hub, laptop, db, phone], ...init });
  const api = fakeApi({
    'GET /api/v1/me': () => json({ tokenId: 't', name: 'someone', role }),
    'GET /api/v1/networks': () => json([network()]),
    'GET /api/v1/networks/n1/peers': () => json(peerList()),
    'GET /api/v1/networks/n1/presence': () => json([]),
    'GET /api/v1/incidents': () => json([]),
    ...seg.routes,
  });
  return { ...seg, api };
}

const gainedSsh = { gained: [pair(laptop, db, ['tcp/22'])], lost: [pair(phone, db)], configsChanged: 2, truncated: false };

describe('policy editor', () => {
  async function fillNewPolicy() {
    await userEvent.click(await screen.findByRole('button', { name: 'New policy' }));
    const dialog = screen.getByRole('dialog', { name: 'New policy' });
    await userEvent.type(within(dialog).getByLabelText('Name'), 'ssh-to-db');
    await userEvent.click(within(within(dialog).getByRole('group', { name: 'Sources: groups' })).getByLabelText(/devs/));
    await userEvent.click(within(within(dialog).getByRole('group', { name: 'Destinations: peers' })).getByLabelText(/db/));
    await userEvent.type(within(dialog).getByLabelText('Ports'), 'tcp/22{Enter}');
    return dialog;
  }

  it('shows the what-if diff before saving, and Cancel saves nothing', async () => {
    const seg = serve({ groups: [group({ members: [laptop] })], preview: () => gainedSsh });
    renderApp('/networks/n1/policies');
    let dialog = await fillNewPolicy();
    await userEvent.click(within(dialog).getByRole('button', { name: 'Review changes' }));

    const diff = await within(dialog).findByTestId('policy-preview');
    expect(within(diff).getByRole('list', { name: 'Gained connections' })).toHaveTextContent('laptop → db: tcp/22');
    expect(within(diff).getByRole('list', { name: 'Lost connections' })).toHaveTextContent('phone → db: all ports');
    expect(within(diff).getByTestId('configs-changed')).toHaveTextContent('2');
    expect(seg.writes.map(w => `${w.method} ${w.path}`)).toEqual(['POST /api/v1/networks/n1/policies/preview']);
    expect(seg.writes[0].body).toEqual({ add: [{ name: 'ssh-to-db', description: null, sources: { groups: ['g1'], peers: [] }, destinations: { groups: [], peers: ['p3'] }, ports: ['tcp/22'] }] });

    await userEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.queryByRole('dialog', { name: 'New policy' })).toBeNull());
    expect(seg.writes.filter(w => !w.path.endsWith('/preview'))).toEqual([]);
    expect(seg.state.policies).toEqual([]);

    // The same again, confirmed: now it is saved, exactly as previewed, and listed.
    dialog = await fillNewPolicy();
    await userEvent.click(within(dialog).getByRole('button', { name: 'Review changes' }));
    await within(dialog).findByTestId('policy-preview');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create policy' }));
    const row = await screen.findByRole('row', { name: /ssh-to-db/ });
    expect(row).toHaveTextContent('group devs');
    expect(row).toHaveTextContent('db');
    expect(row).toHaveTextContent('tcp/22');
    const saves = seg.writes.filter(w => w.path === '/api/v1/networks/n1/policies');
    expect(saves).toHaveLength(1);
    expect(saves[0].body).toEqual((seg.writes[0].body as { add: unknown[] }).add[0]);
  });

  it('previews an edit as an update of that policy and saves it with PATCH', async () => {
    const seg = serve({ groups: [group()], policies: [policy()], preview: () => gainedSsh });
    renderApp('/networks/n1/policies');
    await userEvent.click(await screen.findByRole('button', { name: 'Edit ssh' }));
    const dialog = screen.getByRole('dialog', { name: 'Edit ssh' });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Remove tcp/22' }));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Review changes' }));
    await within(dialog).findByTestId('policy-preview');
    expect(seg.writes[0].body).toMatchObject({ update: [{ id: 'pol1', ports: [] }] });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Back to editing' }));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Review changes' }));
    await userEvent.click(await within(dialog).findByRole('button', { name: 'Save policy' }));
    await waitFor(() => expect(seg.writes.some(w => w.method === 'PATCH' && w.path === '/api/v1/networks/n1/policies/pol1')).toBe(true));
    expect(seg.state.policies[0].ports).toEqual([]);
  });

  it('validates port chips in the browser and does not preview with an invalid rule pending', async () => {
    const seg = serve({ groups: [group()] });
    renderApp('/networks/n1/policies');
    await userEvent.click(await screen.findByRole('button', { name: 'New policy' }));
    const dialog = screen.getByRole('dialog', { name: 'New policy' });
    const ports = within(dialog).getByLabelText('Ports');
    await userEvent.type(ports, 'tcp/99999{Enter}');
    expect(within(dialog).getByRole('alert')).toHaveTextContent('numbers from 1 to 65535');
    expect(ports).toHaveAttribute('aria-invalid', 'true');
    expect(within(dialog).queryByRole('list', { name: 'Port rules' })).toBeNull();

    await userEvent.clear(ports);
    await userEvent.type(ports, 'icmp/8');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Add port' }));
    expect(within(dialog).getByRole('alert')).toHaveTextContent('icmp has no ports');

    await userEvent.clear(ports);
    await userEvent.type(ports, 'tcp/8000-8100, udp/53-53 icmp{Enter}');
    expect(within(dialog).getByRole('list', { name: 'Port rules' })).toHaveTextContent(/tcp\/8000-8100\s*✕\s*udp\/53\s*✕\s*icmp/);
    expect(ports).toHaveValue('');
    expect(within(dialog).queryByRole('alert')).toBeNull();

    // Typed but not added, and invalid: Review stops at the message.
    await userEvent.type(within(dialog).getByLabelText('Name'), 'web');
    await userEvent.type(ports, 'TCP/80');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Review changes' }));
    expect(within(dialog).getByRole('alert')).toHaveTextContent('protocol must be tcp, udp or icmp');
    expect(seg.writes).toEqual([]);
  });

  it('deletes a policy only after showing what the removal would change', async () => {
    const seg = serve({ groups: [group()], policies: [policy()], preview: () => ({ gained: [], lost: [pair(laptop, db, ['tcp/22'])], configsChanged: 2, truncated: true }) });
    renderApp('/networks/n1/policies');
    await userEvent.click(await screen.findByRole('button', { name: 'Delete ssh' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete ssh' });
    expect(await within(dialog).findByRole('list', { name: 'Lost connections' })).toHaveTextContent('laptop → db: tcp/22');
    expect(within(dialog).getByText(/cut short/)).toBeInTheDocument();
    expect(seg.writes).toEqual([{ method: 'POST', path: '/api/v1/networks/n1/policies/preview', body: { remove: ['pol1'] } }]);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Delete ssh' }));
    await screen.findByText(/No policies yet/);
    expect(seg.writes.at(-1)).toMatchObject({ method: 'DELETE', path: '/api/v1/networks/n1/policies/pol1' });
  });

  it('shows the server’s validation message next to the name', async () => {
    serve();
    renderApp('/networks/n1/policies');
    await userEvent.click(await screen.findByRole('button', { name: 'New policy' }));
    const dialog = screen.getByRole('dialog', { name: 'New policy' });
    await userEvent.type(within(dialog).getByLabelText('Name'), 'not ok!');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Review changes' }));
    await waitFor(() => expect(within(dialog).getByLabelText('Name')).toHaveAttribute('aria-invalid', 'true'));
    expect(within(dialog).queryByTestId('policy-preview')).toBeNull();
  });
});

describe('default policy', () => {
  it('switches only after showing what the switch would change', async () => {
    const seg = serve({ preview: () => ({ gained: [], lost: [pair(laptop, db), pair(db, laptop)], configsChanged: 3, truncated: false }) });
    renderApp('/networks/n1/policies');
    const card = await screen.findByTestId('default-policy');
    expect(card).toHaveAttribute('data-policy', 'allow');
    await userEvent.click(within(card).getByRole('button', { name: 'Switch to deny…' }));
    const dialog = screen.getByRole('dialog', { name: 'Default policy: deny' });
    expect(await within(dialog).findByRole('list', { name: 'Lost connections' })).toHaveTextContent('laptop → db: all ports');
    expect(seg.writes).toEqual([{ method: 'POST', path: '/api/v1/networks/n1/policies/preview', body: { defaultPolicy: 'deny' } }]);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Switch to deny' }));
    await waitFor(() => expect(screen.getByTestId('default-policy')).toHaveAttribute('data-policy', 'deny'));
    expect(seg.writes.at(-1)).toEqual({ method: 'PATCH', path: '/api/v1/networks/n1', body: { defaultPolicy: 'deny' } });
  });

  it('offers a viewer no switch and no editor', async () => {
    serve({ policies: [policy()] }, 'viewer');
    renderApp('/networks/n1/policies');
    await screen.findByRole('row', { name: /ssh/ });
    await screen.findByText('viewer');
    expect(screen.queryByRole('button', { name: /^(Switch to (allow|deny)|New policy|Edit|Delete)/ })).toBeNull();
  });
});

describe('groups', () => {
  it('creates a group and edits its members with the peer picker (PUT members)', async () => {
    const seg = serve();
    renderApp('/networks/n1/groups');
    await userEvent.click(await screen.findByRole('button', { name: 'New group' }));
    let dialog = screen.getByRole('dialog', { name: 'New group' });
    await userEvent.type(within(dialog).getByLabelText('Name'), 'servers');
    await userEvent.type(within(dialog).getByLabelText('Description'), 'databases');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create group' }));
    await screen.findByRole('row', { name: /servers/ });
    expect(seg.writes[0]).toMatchObject({ method: 'POST', body: { name: 'servers', description: 'databases' } });
    const id = seg.state.groups[0].id;

    await userEvent.click(screen.getByRole('button', { name: 'Members of servers' }));
    dialog = screen.getByRole('dialog', { name: 'Members of servers' });
    await userEvent.click(within(dialog).getByLabelText(/db/));
    await userEvent.click(within(dialog).getByLabelText(/phone/));
    await userEvent.click(within(dialog).getByLabelText(/phone/)); // picked and unpicked again
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save members' }));
    expect(await screen.findByRole('list', { name: 'Members of servers' })).toHaveTextContent('db');
    expect(seg.writes.at(-1)).toEqual({ method: 'PUT', path: `/api/v1/networks/n1/groups/${id}/members`, body: { peerIds: ['p3'] } });
  });

  it('renames a group with PATCH of what changed and deletes it after asking', async () => {
    const seg = serve({ groups: [group({ members: [laptop], description: 'people' })] });
    renderApp('/networks/n1/groups');
    await userEvent.click(await screen.findByRole('button', { name: 'Edit devs' }));
    const dialog = screen.getByRole('dialog', { name: 'Edit devs' });
    await userEvent.clear(within(dialog).getByLabelText('Name'));
    await userEvent.type(within(dialog).getByLabelText('Name'), 'engineers');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    await screen.findByRole('row', { name: /engineers/ });
    expect(seg.writes[0]).toEqual({ method: 'PATCH', path: '/api/v1/networks/n1/groups/g1', body: { name: 'engineers' } });
    await userEvent.click(screen.getByRole('button', { name: 'Delete engineers' }));
    await userEvent.click(within(screen.getByRole('dialog', { name: 'Delete engineers' })).getByRole('button', { name: 'Delete engineers' }));
    await screen.findByText(/No groups yet/);
    expect(seg.writes.at(-1)).toMatchObject({ method: 'DELETE', path: '/api/v1/networks/n1/groups/g1' });
  });

  it('lists each peer’s groups on the network page', async () => {
    serve();
    renderApp('/networks/n1');
    expect(await screen.findByRole('list', { name: 'Groups of laptop' })).toHaveTextContent('devs');
    expect(screen.queryByRole('list', { name: 'Groups of db' })).toBeNull();
  });
});

describe('routes', () => {
  it('adds a route and shows the server’s reason when one is refused', async () => {
    const seg = serve({ groups: [group()] });
    renderApp('/networks/n1/routes');
    await userEvent.click(await screen.findByRole('button', { name: 'Add route' }));
    let dialog = screen.getByRole('dialog', { name: 'Add route' });
    await userEvent.type(within(dialog).getByLabelText('Destination CIDR'), '10.10.0.0/24');
    await userEvent.selectOptions(within(dialog).getByLabelText('Via peer'), 'p3');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Add route' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent("covers the network's own range 10.10.0.0/24");
    expect(seg.state.routes).toEqual([]);

    await userEvent.clear(within(dialog).getByLabelText('Destination CIDR'));
    await userEvent.type(within(dialog).getByLabelText('Destination CIDR'), '192.168.50.0/24');
    await userEvent.click(within(dialog).getByLabelText('devs'));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Add route' }));
    const row = await screen.findByRole('row', { name: /192\.168\.50\.0\/24/ });
    expect(row).toHaveTextContent('db');
    expect(row).toHaveTextContent('group devs');
    expect(seg.writes.at(-1)!.body).toEqual({ cidr: '192.168.50.0/24', via: 'p3', groups: ['g1'] });

    await userEvent.click(within(row).getByRole('button', { name: 'Delete route 192.168.50.0/24' }));
    dialog = screen.getByRole('dialog', { name: 'Delete route 192.168.50.0/24' });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Delete route' }));
    await screen.findByText(/No routes yet/);
  });

  it('shows a refusal that names its field once, under the field', async () => {
    const reason = "10.10.0.0/24 overlaps the network's own range 10.10.0.0/24.";
    const seg = fakeSegmentation({ peers: [hub, laptop, db, phone] });
    fakeApi({
      'GET /api/v1/me': () => json({ tokenId: 't', name: 'someone', role: 'admin' }),
      'GET /api/v1/networks/n1/peers': () => json(peerList()),
      'GET /api/v1/incidents': () => json([]),
      ...seg.routes,
      'POST /api/v1/networks/n1/routes': () => problem(400, reason, { cidr: [reason] }),
    });
    renderApp('/networks/n1/routes');
    await userEvent.click(await screen.findByRole('button', { name: 'Add route' }));
    const dialog = screen.getByRole('dialog', { name: 'Add route' });
    await userEvent.type(within(dialog).getByLabelText('Destination CIDR'), '10.10.0.0/24');
    await userEvent.selectOptions(within(dialog).getByLabelText('Via peer'), 'p3');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Add route' }));
    const cidr = within(dialog).getByLabelText('Destination CIDR');
    await waitFor(() => expect(cidr).toHaveAccessibleDescription(expect.stringContaining(reason)));
    expect(within(dialog).getAllByText(reason)).toHaveLength(1);
  });
});

describe('topology with policy', () => {
  it('draws only the links reachability allows', async () => {
    // Default deny, one policy: laptop may reach db. The phone may reach nobody and nobody it.
    const api = serve({ defaultPolicy: 'deny', pairs: [pair(laptop, db, ['tcp/22'])] }).api;
    renderApp('/networks/n1/topology');
    const links = await screen.findByRole('list', { name: 'Allowed links' });
    const items = within(links).getAllByRole('listitem');
    expect(items.map(i => i.textContent)).toEqual(['laptop – db: direct; laptop → db (tcp/22)']);
    expect(items[0]).toHaveAttribute('data-kind', 'mesh');
    expect(screen.getByTestId('reachability-note')).toHaveTextContent('default deny');
    expect(api.calls.some(c => c.url === '/api/v1/networks/n1/reachability')).toBe(true);
  });

  it('marks an allowed pair that cannot meet directly as relayed by the jump', async () => {
    serve({ pairs: [pair(phone, db), pair(laptop, db), pair(db, laptop)] });
    renderApp('/networks/n1/topology');
    const links = await screen.findByRole('list', { name: 'Allowed links' });
    expect(within(links).getAllByRole('listitem').map(i => [i.getAttribute('data-kind'), i.textContent?.split(':')[0]]))
      .toEqual([['mesh', 'laptop – db'], ['relay', 'db – phone']]);
  });
});

describe('history of segmentation events', () => {
  it('names an event the server gave no sentence for by its type', async () => {
    serve();
    fakeApi({
      'GET /api/v1/me': () => json({ tokenId: 't', name: 'someone', role: 'admin' }),
      'GET /api/v1/networks/n1': () => json(network()),
      'GET /api/v1/incidents': () => json([]),
      'GET /api/v1/networks/n1/timeline': () => json({ items: [
        { sequence: 1, timestamp: '2026-11-01T10:00:00Z', type: 'GroupMembersSet', actor: { name: 'admin' }, summary: '', subject: { kind: 'group', id: 'g1', name: 'devs' } },
        { sequence: 2, timestamp: '2026-11-01T10:01:00Z', type: 'PolicyCreated', actor: { name: 'admin' }, summary: 'admin created policy ssh', subject: null },
      ], next: null }),
      'GET /api/v1/networks/n1/state': () => json({ at: { sequence: 2, timestamp: '' }, network: network(), peers: [], ipam: { total: 254, used: 0, free: 254 }, blocked: [], openIncidents: [] }),
    });
    renderApp('/networks/n1/history');
    const timeline = await screen.findByRole('list', { name: 'Timeline' });
    expect(timeline).toHaveTextContent('group members set (devs)');
    expect(timeline).toHaveTextContent('admin created policy ssh');
  });

  it('draws the replayed topology with the reachability of that point in time', async () => {
    const seg = fakeSegmentation({ pairs: [pair(laptop, db)] });
    const api = fakeApi({
      'GET /api/v1/me': () => json({ tokenId: 't', name: 'someone', role: 'admin' }),
      'GET /api/v1/networks/n1': () => json(network()),
      'GET /api/v1/incidents': () => json([]),
      'GET /api/v1/networks/n1/timeline': () => json({ items: [
        { sequence: 7, timestamp: '2026-11-01T10:00:00Z', type: 'PolicyCreated', actor: { name: 'admin' }, summary: 'admin created policy ssh', subject: null },
      ], next: null }),
      'GET /api/v1/networks/n1/state': () => json({ at: { sequence: 7, timestamp: '' }, network: network(), peers: peerList(), ipam: { total: 254, used: 4, free: 250 }, blocked: [], openIncidents: [] }),
      'GET /api/v1/networks/n1/reachability': seg.routes['GET /api/v1/networks/n1/reachability'],
    });
    renderApp('/networks/n1/history');
    const links = await screen.findByRole('list', { name: 'Allowed links' });
    expect(within(links).getAllByRole('listitem').map(i => i.textContent)).toEqual(['laptop – db: direct; laptop → db (all ports)']);
    expect(api.calls.some(c => c.url === '/api/v1/networks/n1/reachability?at=7')).toBe(true);
  });
});
