import { afterEach, describe, expect, it } from 'vitest';
import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { FakeSocket, fakeApi, json, me, network, peer, problem, renderApp, type Handler } from './test/fakes';

const TOKEN = 'wirety_test-token-0123456789abcdefghijklmnop';
afterEach(() => { cleanup(); sessionStorage.clear(); localStorage.clear(); });

const baseRoutes = (role = 'admin') => ({
  'GET /api/v1/me': () => json({ tokenId: 't', name: 'someone', role }),
  'GET /api/v1/networks': () => json([network()]),
  'GET /api/v1/networks/n1': () => json(network()),
  'GET /api/v1/networks/n1/peers': () => json([peer(), peer({ id: 'p2', name: 'laptop', kind: 'dynamic', address: '10.10.0.2', endpoint: null, observedEndpoint: '198.51.100.7:51820' })]),
  'GET /api/v1/networks/n1/presence': () => json([{ peerId: 'p1', online: true, lastSeen: new Date().toISOString() }, { peerId: 'p2', online: false, lastSeen: null }]),
  'GET /api/v1/incidents': () => json([]),
});

/** Everything in the browser's storage (keys and values). */
const stored = () => [sessionStorage, localStorage]
  .flatMap(st => Array.from({ length: st.length }, (_, i) => `${st.key(i)}=${st.getItem(st.key(i)!)}`)).join('\n');

/** A server with UI sessions: `GET /me` answers 401 until `POST /auth/session` accepted the token (the cookie). */
function sessionServer(role = 'admin', extra: Record<string, Handler> = {}) {
  const state = { signedIn: false, sessionAuth: [] as (string | undefined)[] };
  const api = fakeApi({
    ...baseRoutes(role),
    'GET /api/v1/me': () => (state.signedIn ? json(me({ role })) : problem(401, 'Sign in first.')),
    'POST /api/v1/auth/session': ({ headers }) => {
      state.sessionAuth.push(headers.Authorization);
      if (headers.Authorization !== `Bearer ${TOKEN}`) return problem(401, 'The token is not valid.');
      state.signedIn = true;
      return new Response(null, { status: 204 });
    },
    'POST /api/v1/auth/signout': () => { state.signedIn = false; return new Response(null, { status: 204 }); },
    ...extra,
  });
  return { api, state };
}

describe('sign-in', () => {
  it('refuses a bad token with a message and keeps nothing', async () => {
    sessionServer();
    renderApp('/');
    await userEvent.type(await screen.findByLabelText('API token'), 'wirety_wrong');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('not valid');
    expect(stored()).not.toContain('wirety_');
  });

  it('sends the token once to start a session, keeps it in no storage, and opens the live channel without it', async () => {
    const { api, state } = sessionServer('analyst');
    renderApp('/');
    await userEvent.type(await screen.findByLabelText('API token'), TOKEN);
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('heading', { name: 'Dashboard' })).toBeInTheDocument();
    expect(await screen.findByText('analyst')).toBeInTheDocument();
    expect(state.sessionAuth).toEqual([`Bearer ${TOKEN}`]);
    // The token went out exactly once, in the session request; everything after rides on the cookie.
    expect(api.calls.filter(c => c.auth).map(c => c.url)).toEqual(['/api/v1/auth/session']);
    expect(api.calls.every(c => c.credentials === 'same-origin')).toBe(true);
    expect(stored()).not.toContain(TOKEN);
    expect(stored()).not.toContain('wirety_');
    expect(sessionStorage.length).toBe(0);
    expect(FakeSocket.instances[0].url).toMatch(/\/api\/v1\/ws$/);
    expect(FakeSocket.instances[0].url).not.toContain(TOKEN);
  });

  it('is signed in on load when the session cookie is there (GET /me decides), and signs out on the server', async () => {
    const { api, state } = sessionServer('admin');
    state.signedIn = true;
    renderApp('/networks');
    expect(await screen.findByRole('link', { name: 'corp' })).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(await screen.findByLabelText('API token')).toBeInTheDocument();
    const signout = api.calls.find(c => c.url === '/api/v1/auth/signout')!;
    expect(signout.method).toBe('POST');
    expect(signout.csrf).toBe(me().csrfToken);
    expect(state.signedIn).toBe(false);
  });

  it('sends the CSRF token from /me on every write, and none on reads', async () => {
    const { api, state } = sessionServer('admin', {
      'PATCH /api/v1/networks/n1': () => json(network({ name: 'corp-2' })),
      'DELETE /api/v1/networks/n1': () => new Response(null, { status: 204 }),
    });
    state.signedIn = true;
    renderApp('/networks');
    await userEvent.click(await screen.findByRole('button', { name: 'Edit corp' }));
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(api.calls.some(c => c.method === 'PATCH')).toBe(true));
    await userEvent.click(await screen.findByRole('button', { name: 'Delete corp' }));
    await userEvent.type(screen.getByLabelText(/Type the network/), 'corp');
    await userEvent.click(screen.getByRole('button', { name: 'Delete network' }));
    await waitFor(() => expect(api.calls.some(c => c.method === 'DELETE')).toBe(true));
    const writes = api.calls.filter(c => c.method !== 'GET');
    expect(writes.map(c => [c.method, c.csrf])).toEqual([['PATCH', 'csrf-0123456789'], ['DELETE', 'csrf-0123456789']]);
    expect(api.calls.filter(c => c.method === 'GET').every(c => c.csrf === undefined)).toBe(true);
  });

  it('offers SSO when the server has it, with the way back, and says when the provider refused', async () => {
    sessionServer('admin', { 'GET /api/v1/auth/config': () => json({ oidc: true, providerName: 'Acme ID' }) });
    renderApp('/networks/n1?signin=refused');
    const link = await screen.findByRole('link', { name: 'Sign in with Acme ID' });
    expect(link).toHaveAttribute('href', '/api/v1/auth/oidc/login?returnUrl=%2Fnetworks%2Fn1');
    expect(screen.getByRole('alert')).toHaveTextContent('Your account is disabled or was refused');
    cleanup();
    sessionServer('admin', { 'GET /api/v1/auth/config': () => json({ oidc: true, providerName: null }) });
    renderApp('/');
    expect(await screen.findByRole('link', { name: 'Sign in with SSO' })).toBeInTheDocument();
    expect(screen.queryByRole('alert')).toBeNull();
    cleanup();
    sessionServer('admin', { 'GET /api/v1/auth/config': () => json({ oidc: true, providerName: null }) });
    renderApp('/?signin=failed');
    expect(await screen.findByRole('alert')).toHaveTextContent('Single sign-on did not complete');
    cleanup();
    sessionServer('admin', { 'GET /api/v1/auth/config': () => json({ oidc: false, providerName: null }) });
    renderApp('/');
    await screen.findByLabelText('API token');
    await waitFor(() => expect(screen.queryByRole('link', { name: /Sign in with/ })).toBeNull());
  });

  it('tells a person without a role to ask an admin, and shows nothing else', async () => {
    fakeApi({ ...baseRoutes(), 'GET /api/v1/me': () => json(me({ kind: 'user', name: 'Alice', role: null })) });
    renderApp('/networks');
    expect(await screen.findByTestId('no-role')).toHaveTextContent('Signed in as Alice; ask an admin for a role.');
    expect(screen.queryByRole('navigation', { name: 'Main' })).toBeNull();
    expect(screen.queryByRole('link', { name: 'corp' })).toBeNull();
    expect(screen.getByRole('button', { name: 'Sign out' })).toBeInTheDocument();
  });
});

describe('dashboard', () => {
  it('counts online, offline and blocked peers and shows capacity as a meter', async () => {
    fakeApi(baseRoutes());
    renderApp('/');
    const stats = await screen.findByTestId('stats-corp');
    await waitFor(() => expect(within(stats).getByText('Online').nextSibling).toHaveTextContent('1'));
    expect(within(stats).getByText('Offline').nextSibling).toHaveTextContent('1');
    expect(screen.getByRole('meter', { name: 'Address capacity of corp' })).toHaveAttribute('aria-valuenow', '2');
  });
});

describe('roles', () => {
  it('shows a viewer no write buttons', async () => {
    fakeApi(baseRoutes('viewer'));
    renderApp('/networks');
    expect(await screen.findByRole('link', { name: 'corp' })).toBeInTheDocument();
    await screen.findByText('viewer');
    expect(screen.queryByRole('button', { name: 'New network' })).toBeNull();
    expect(screen.queryByRole('button', { name: /Edit|Delete/ })).toBeNull();
    expect(screen.queryByRole('link', { name: 'Events' })).toBeNull();
    cleanup();
    renderApp('/networks/n1');
    expect(await screen.findByText('laptop')).toBeInTheDocument();
    await screen.findByText('viewer');
    expect(screen.queryByRole('button', { name: /Add peer|Block|Delete/ })).toBeNull();
  });

  it('shows an admin the write buttons', async () => {
    fakeApi(baseRoutes('admin'));
    renderApp('/networks/n1');
    expect(await screen.findByRole('button', { name: 'Block laptop' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Add peer' })).toBeInTheDocument();
  });
});

describe('forms', () => {
  it('shows the API validation message next to its field', async () => {
    fakeApi({ ...baseRoutes(), 'POST /api/v1/networks': () => problem(400, 'bad', { cidr: ['10.0.0.1/24 has host bits set.'] }) });
    renderApp('/networks');
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
    renderApp('/networks/n1');
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
    renderApp('/networks/n1');
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
    renderApp('/networks/n1/history');
    expect(await screen.findByRole('alert')).toHaveTextContent('Your role may not read the timeline.');
  });

  it('shows the problem when the network is gone', async () => {
    const gone = () => problem(404, 'There is no network n1.');
    fakeApi({ ...baseRoutes(), 'GET /api/v1/networks/n1': gone, 'GET /api/v1/networks/n1/timeline': gone });
    renderApp('/networks/n1/history');
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
    renderApp('/networks/n1/history');
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
