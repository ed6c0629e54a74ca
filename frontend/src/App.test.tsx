import { afterEach, describe, expect, it } from 'vitest';
import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { FakeSocket, fakeApi, json, network, peer, problem, renderApp } from './test/fakes';

const TOKEN = 'wirety_test-token-0123456789abcdefghijklmnop';
afterEach(() => { cleanup(); sessionStorage.clear(); });

const baseRoutes = (role = 'admin') => ({
  'GET /api/v1/me': () => json({ tokenId: 't', name: 'someone', role }),
  'GET /api/v1/networks': () => json([network()]),
  'GET /api/v1/networks/n1': () => json(network()),
  'GET /api/v1/networks/n1/peers': () => json([peer(), peer({ id: 'p2', name: 'laptop', kind: 'dynamic', address: '10.10.0.2', endpoint: null, observedEndpoint: '198.51.100.7:51820' })]),
  'GET /api/v1/networks/n1/presence': () => json([{ peerId: 'p1', online: true, lastSeen: new Date().toISOString() }, { peerId: 'p2', online: false, lastSeen: null }]),
  'GET /api/v1/incidents': () => json([]),
});

describe('sign-in', () => {
  it('refuses a bad token with a message and keeps nothing', async () => {
    fakeApi({ ...baseRoutes(), 'GET /api/v1/networks': () => problem(401, 'The token is not valid.') });
    renderApp('/');
    await userEvent.type(screen.getByLabelText('API token'), 'wirety_wrong');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('not valid');
    expect(sessionStorage.getItem('wirety.token')).toBeNull();
  });

  it('keeps a good token in session storage only, shows its role and opens the live channel', async () => {
    const api = fakeApi(baseRoutes('analyst'));
    renderApp('/');
    await userEvent.type(screen.getByLabelText('API token'), TOKEN);
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('heading', { name: 'Dashboard' })).toBeInTheDocument();
    expect(sessionStorage.getItem('wirety.token')).toBe(TOKEN);
    expect(JSON.stringify(localStorage)).not.toContain(TOKEN);
    expect(await screen.findByText('analyst')).toBeInTheDocument();
    expect(api.calls.every(c => c.auth === `Bearer ${TOKEN}`)).toBe(true);
    expect(FakeSocket.instances[0].url).toContain(`/api/v1/ws?access_token=${TOKEN}`);
  });
});

describe('dashboard', () => {
  it('counts online, offline and blocked peers and shows capacity as a meter', async () => {
    fakeApi(baseRoutes());
    renderApp('/', { token: TOKEN });
    const stats = await screen.findByTestId('stats-corp');
    await waitFor(() => expect(within(stats).getByText('Online').nextSibling).toHaveTextContent('1'));
    expect(within(stats).getByText('Offline').nextSibling).toHaveTextContent('1');
    expect(screen.getByRole('meter', { name: 'Address capacity of corp' })).toHaveAttribute('aria-valuenow', '2');
  });
});

describe('roles', () => {
  it('shows a viewer no write buttons', async () => {
    fakeApi(baseRoutes('viewer'));
    renderApp('/networks', { token: TOKEN });
    expect(await screen.findByRole('link', { name: 'corp' })).toBeInTheDocument();
    await screen.findByText('viewer');
    expect(screen.queryByRole('button', { name: 'New network' })).toBeNull();
    expect(screen.queryByRole('button', { name: /Edit|Delete/ })).toBeNull();
    expect(screen.queryByRole('link', { name: 'Events' })).toBeNull();
    cleanup();
    renderApp('/networks/n1', { token: TOKEN });
    expect(await screen.findByText('laptop')).toBeInTheDocument();
    await screen.findByText('viewer');
    expect(screen.queryByRole('button', { name: /Add peer|Block|Delete/ })).toBeNull();
  });

  it('shows an admin the write buttons', async () => {
    fakeApi(baseRoutes('admin'));
    renderApp('/networks/n1', { token: TOKEN });
    expect(await screen.findByRole('button', { name: 'Block laptop' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Add peer' })).toBeInTheDocument();
  });
});

describe('forms', () => {
  it('shows the API validation message next to its field', async () => {
    fakeApi({ ...baseRoutes(), 'POST /api/v1/networks': () => problem(400, 'bad', { cidr: ['10.0.0.1/24 has host bits set.'] }) });
    renderApp('/networks', { token: TOKEN });
    await userEvent.click(await screen.findByRole('button', { name: 'New network' }));
    await userEvent.type(screen.getByLabelText('Name'), 'x');
    await userEvent.type(screen.getByLabelText('IPv4 CIDR'), '10.0.0.1/24');
    await userEvent.click(screen.getByRole('button', { name: 'Create network' }));
    const cidr = screen.getByLabelText('IPv4 CIDR');
    await waitFor(() => expect(cidr).toHaveAttribute('aria-invalid', 'true'));
    expect(cidr).toHaveAccessibleDescription(expect.stringContaining('has host bits set'));
  });

  it('shows a new dynamic peer’s token once, with the enroll command', async () => {
    const created = peer({ id: 'p3', name: 'db', kind: 'dynamic', enrolled: false, enrollmentToken: 'wirety_enroll_secret', enrollmentTokenExpiresAt: '2026-11-02T10:00:00Z' });
    fakeApi({ ...baseRoutes(), 'POST /api/v1/networks/n1/peers': () => json(created, 201) });
    renderApp('/networks/n1', { token: TOKEN });
    await userEvent.click(await screen.findByRole('button', { name: 'Add peer' }));
    await userEvent.type(screen.getByLabelText('Name'), 'db');
    await userEvent.click(screen.getByRole('button', { name: 'Create peer' }));
    const dialog = await screen.findByRole('dialog', { name: 'Peer db created' });
    expect(within(dialog).getByTestId('enrollment-token')).toHaveValue('wirety_enroll_secret');
    expect(within(dialog).getByTestId('enroll-command')).toHaveTextContent(`sudo wirety-agent enroll --server ${window.location.origin} --token wirety_enroll_secret`);
  });
});

describe('live updates', () => {
  it('refetches peers when a notice says they changed', async () => {
    let blocked = false;
    fakeApi({ ...baseRoutes(), 'GET /api/v1/networks/n1/peers': () => json([peer({ blocked, blockReason: blocked ? 'lost' : null })]) });
    renderApp('/networks/n1', { token: TOKEN });
    await screen.findByText('hub');
    expect(screen.queryByText('blocked')).toBeNull();
    blocked = true;
    act(() => FakeSocket.instances[0].emit({ type: 'peer-changed', networkId: 'n1', peerId: 'p1', change: 'blocked' }));
    expect(await screen.findByText('blocked')).toBeInTheDocument();
  });
});

describe('history errors', () => {
  it('tells a viewer the timeline is not for its role', async () => {
    fakeApi({ ...baseRoutes('viewer'), 'GET /api/v1/networks/n1/timeline': () => problem(403, 'The viewer role may not do this.') });
    renderApp('/networks/n1/history', { token: TOKEN });
    expect(await screen.findByRole('alert')).toHaveTextContent('Your role may not read the timeline.');
  });

  it('shows the problem when the network is gone', async () => {
    const gone = () => problem(404, 'There is no network n1.');
    fakeApi({ ...baseRoutes(), 'GET /api/v1/networks/n1': gone, 'GET /api/v1/networks/n1/timeline': gone });
    renderApp('/networks/n1/history', { token: TOKEN });
    expect(await screen.findByText('There is no network n1.')).toBeInTheDocument();
  });
});

describe('history', () => {
  it('moving the slider shows the state at that point', async () => {
    const items = [1, 5, 9].map((sequence, i) => ({
      sequence, timestamp: `2026-11-01T10:0${i}:00Z`, type: 'X', actor: { name: 'admin' }, summary: `step ${i}`, subject: null,
    }));
    const api = fakeApi({
      ...baseRoutes(),
      'GET /api/v1/networks/n1/timeline': () => json({ items, next: null }),
      'GET /api/v1/networks/n1/state': ({ url }) => {
        const at = Number(url.searchParams.get('at'));
        const peers = at >= 9 ? [peer(), peer({ id: 'p2', name: 'laptop', kind: 'dynamic' })] : at >= 5 ? [peer()] : [];
        return json({ at: { sequence: at, timestamp: '' }, network: network(), peers, ipam: { total: 254, used: peers.length, free: 0 }, blocked: [], openIncidents: [] });
      },
    });
    renderApp('/networks/n1/history', { token: TOKEN });
    const row = (name: string) => screen.getByTestId('history-state').querySelector(`tr[data-peer="${name}"]`);
    await waitFor(() => expect(row('laptop')).not.toBeNull());
    fireEvent.change(screen.getByLabelText(/Replay/), { target: { value: '1' } });
    await waitFor(() => expect(row('laptop')).toBeNull());
    expect(row('hub')).not.toBeNull();
    expect(api.calls.some(c => c.url === '/api/v1/networks/n1/state?at=5')).toBe(true);
    fireEvent.change(screen.getByLabelText(/Replay/), { target: { value: '0' } });
    expect(await screen.findByText('No peers at this point.')).toBeInTheDocument();
  });
});
