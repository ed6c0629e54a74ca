import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { fakeApi, json, me, network, peer, problem, renderApp, type Handler } from '../test/fakes';
import { emailCounts } from './Users';
import { securityRequest } from './NetworkSecurity';
import { ApiError } from '../lib/api';

afterEach(() => { cleanup(); sessionStorage.clear(); });

const T0 = '2026-11-01T10:00:00Z';
const noContent = () => new Response(null, { status: 204 });
const routes = (who: object = {}): Record<string, Handler> => ({
  'GET /api/v1/me': () => json(me(who)),
  'GET /api/v1/networks': () => json([network(), network({ id: 'n2', name: 'lab', cidr: '10.30.0.0/24' })]),
  'GET /api/v1/networks/n1': () => json(network()),
  'GET /api/v1/networks/n1/peers': () => json([peer()]),
  'GET /api/v1/networks/n1/presence': () => json([]),
  'GET /api/v1/incidents': () => json([]),
});

const token = (over: object = {}) => ({
  id: 'tk1', name: 'admin', createdAt: T0, expiresAt: null as string | null, revokedAt: null as string | null, bootstrap: true, createdBy: 'system', role: 'admin', ...over,
});

describe('API tokens screen', () => {
  it('lists tokens with their scope, creates one limited to a network and shows its value once, revokes after asking', async () => {
    let list = [token(), token({ id: 'tk2', name: 'ci', role: 'viewer', bootstrap: false, createdBy: 'admin', networkIds: ['n2'] })];
    const sent: unknown[] = [];
    const api = fakeApi({
      ...routes(),
      'GET /api/v1/tokens': () => json(list),
      'POST /api/v1/tokens': ({ body }) => {
        sent.push(body);
        const b = body as { name: string; role: string; networkIds?: string[] };
        if (!b.name) return problem(400, 'The request is invalid.', { name: ['name is required and must be at most 64 characters.'] });
        const created = { id: 'tk3', name: b.name, role: b.role, networkIds: b.networkIds ?? null, createdAt: T0, expiresAt: null };
        list = [...list, { ...token(created), bootstrap: false, createdBy: 'admin' }];
        return json({ ...created, token: 'wirety_secret-value-shown-once' }, 201);
      },
      'DELETE /api/v1/tokens/tk2': () => { list = list.map(t => (t.id === 'tk2' ? { ...t, revokedAt: T0 } : t)); return noContent(); },
    });
    renderApp('/tokens');
    const ci = await screen.findByRole('row', { name: /^ci/ });
    await waitFor(() => expect(within(ci).getByTestId('scope')).toHaveTextContent('lab'));
    expect(within(screen.getByRole('row', { name: /^admin/ })).getByTestId('scope')).toHaveTextContent('all networks');

    await userEvent.click(screen.getByRole('button', { name: 'New token' }));
    let dialog = screen.getByRole('dialog', { name: 'New API token' });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create token' }));
    expect(await within(dialog).findByText(/name is required/)).toBeInTheDocument();
    await userEvent.type(within(dialog).getByLabelText('Name'), 'backup');
    await userEvent.selectOptions(within(dialog).getByLabelText('Role'), 'analyst');
    await userEvent.click(within(dialog).getByRole('checkbox', { name: 'corp' }));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create token' }));
    dialog = await screen.findByRole('dialog', { name: 'Token backup created' });
    expect(within(dialog).getByTestId('token-value')).toHaveValue('wirety_secret-value-shown-once');
    expect(within(dialog).getByText(/only once/)).toBeInTheDocument();
    expect(sent.at(-1)).toEqual({ name: 'backup', role: 'analyst', networkIds: ['n1'] });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Done' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(screen.queryByDisplayValue('wirety_secret-value-shown-once')).toBeNull();
    expect(screen.queryByText(/wirety_secret-value/)).toBeNull();
    expect(within(await screen.findByRole('row', { name: /^backup/ })).getByTestId('scope')).toHaveTextContent('corp');

    await userEvent.click(screen.getByRole('button', { name: 'Revoke ci' }));
    const confirm = screen.getByRole('dialog', { name: 'Revoke ci' });
    expect(api.calls.some(c => c.method === 'DELETE')).toBe(false);
    await userEvent.click(within(confirm).getByRole('button', { name: 'Revoke ci' }));
    await waitFor(() => expect(within(screen.getByRole('row', { name: /^ci/ })).getByTestId('revoked')).toHaveTextContent('revoked'));
    expect(screen.queryByRole('button', { name: 'Revoke ci' })).toBeNull();
  });

  it('leaves networkIds out for a token of every network (a server without scopes refuses unknown members)', async () => {
    const sent: unknown[] = [];
    fakeApi({
      ...routes(),
      'GET /api/v1/tokens': () => json([token()]),
      'POST /api/v1/tokens': ({ body }) => { sent.push(body); return json({ id: 'x', name: 'ops', role: 'viewer', createdAt: T0, expiresAt: null, token: 'wirety_x' }, 201); },
    });
    renderApp('/tokens');
    await userEvent.click(await screen.findByRole('button', { name: 'New token' }));
    await userEvent.type(screen.getByLabelText('Name'), 'ops');
    await userEvent.click(screen.getByRole('button', { name: 'Create token' }));
    await screen.findByRole('dialog', { name: 'Token ops created' });
    expect(sent).toEqual([{ name: 'ops', role: 'viewer' }]);
  });
});

const user = (over: object = {}) => ({
  id: 'u1', issuer: 'https://idp.example', subject: 'alice-sub', email: 'alice@example.com' as string | null, name: 'Alice',
  role: null as string | null, networkIds: null as string[] | null,
  disabled: false, firstSeenAt: T0, lastSignInAt: T0, ...over,
});

describe('users screen', () => {
  it('lists users, flags a shared e-mail, grants a role limited to networks and disables', async () => {
    let users = [user(), user({ id: 'u2', subject: 'other-sub', name: 'Alice (2)', email: 'ALICE@example.com', role: 'viewer' }), user({ id: 'u3', subject: 'bob', name: 'Bob', email: null, role: 'admin' })];
    const patches: { id: string; body: unknown }[] = [];
    fakeApi({
      ...routes(),
      'GET /api/v1/users': () => json(users),
      'PATCH /api/v1/users/:id': ({ params, body }) => {
        patches.push({ id: params.id, body });
        const b = body as { role?: string; networkIds?: string[] | null; disabled?: boolean };
        users = users.map(u => (u.id !== params.id ? u : {
          ...u, ...(b.disabled !== undefined && { disabled: b.disabled }),
          ...(b.role && { role: b.role === 'none' ? null : b.role, networkIds: b.networkIds ?? null }),
        }));
        return json(users.find(u => u.id === params.id));
      },
    });
    renderApp('/users');
    const alice = await screen.findByRole('row', { name: /^Alice alice@/ });
    expect(within(alice).getByTestId('email-shared')).toHaveTextContent('2 users share this e-mail');
    expect(within(alice).getByText('alice-sub')).toBeInTheDocument();
    expect(within(alice).getByTestId('role')).toHaveTextContent('none');
    expect(within(screen.getByRole('row', { name: /^Bob/ })).queryByTestId('email-shared')).toBeNull();

    await userEvent.click(within(alice).getByRole('button', { name: 'Role of Alice' }));
    const dialog = screen.getByRole('dialog', { name: 'Role of Alice' });
    await userEvent.selectOptions(within(dialog).getByLabelText('Role'), 'admin');
    await userEvent.click(within(dialog).getByRole('checkbox', { name: 'lab' }));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save role' }));
    await waitFor(() => expect(within(screen.getByRole('row', { name: /^Alice alice@/ })).getByTestId('role')).toHaveTextContent('admin'));
    expect(within(screen.getByRole('row', { name: /^Alice alice@/ })).getByTestId('scope')).toHaveTextContent('lab');
    expect(patches.at(-1)).toEqual({ id: 'u1', body: { role: 'admin', networkIds: ['n2'] } });

    await userEvent.click(screen.getByRole('button', { name: 'Disable Bob' }));
    await waitFor(() => expect(within(screen.getByRole('row', { name: /^Bob/ })).getByTestId('status')).toHaveTextContent('disabled'));
    expect(patches.at(-1)).toEqual({ id: 'u3', body: { disabled: true } });
    expect(screen.getByRole('button', { name: 'Enable Bob' })).toBeInTheDocument();

    // Revoking: "none", no scope.
    await userEvent.click(screen.getByRole('button', { name: 'Role of Alice (2)' }));
    const second = screen.getByRole('dialog', { name: 'Role of Alice (2)' });
    await userEvent.selectOptions(within(second).getByLabelText('Role'), 'none');
    expect(within(second).queryByRole('group', { name: 'Limit to networks' })).toBeNull();
    await userEvent.click(within(second).getByRole('button', { name: 'Save role' }));
    await waitFor(() => expect(patches.at(-1)).toEqual({ id: 'u2', body: { role: 'none' } }));
  });

  it('counts e-mails case-insensitively and ignores users without one', () => {
    const counts = emailCounts([{ email: 'a@x' }, { email: 'A@X' }, { email: null }, { email: 'b@x' }]);
    expect(Object.fromEntries(counts)).toEqual({ 'a@x': 2, 'b@x': 1 });
  });
});

const security = { enabled: true, sessionConflictWindow: '00:05:00', sharedConfigFlips: 3, sharedConfigWindow: '00:10:00', maxEndpointChangesPerDay: 50 };

describe('network security settings', () => {
  it('loads the thresholds, shows the server’s validation message next to its field, and saves', async () => {
    const sent: unknown[] = [];
    fakeApi({
      ...routes(),
      'GET /api/v1/networks/n1/security': () => json(security),
      'PUT /api/v1/networks/n1/security': ({ body }) => {
        sent.push(body);
        const b = body as typeof security;
        if (b.sharedConfigFlips > 1000) return problem(400, 'The request is invalid.', { sharedConfigFlips: ['sharedConfigFlips must be between 1 and 1000.'] });
        return json(b);
      },
    });
    renderApp('/networks/n1/security');
    const flips = await screen.findByLabelText('Endpoint flips (shared config)');
    expect(flips).toHaveValue('3');
    expect(screen.getByRole('link', { name: 'Security' })).toHaveAttribute('aria-current', 'page');
    await userEvent.clear(flips);
    await userEvent.type(flips, '5000');
    await userEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    await waitFor(() => expect(flips).toHaveAttribute('aria-invalid', 'true'));
    expect(flips).toHaveAccessibleDescription(expect.stringContaining('must be between 1 and 1000'));

    await userEvent.clear(flips);
    await userEvent.type(flips, '4');
    const window = screen.getByLabelText('Session conflict window');
    await userEvent.clear(window);
    await userEvent.type(window, '00:15:00');
    await userEvent.click(screen.getByRole('checkbox', { name: /Detect incidents/ }));
    await userEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    expect(await screen.findByText('Saved.')).toBeInTheDocument();
    expect(sent.at(-1)).toEqual({ ...security, enabled: false, sessionConflictWindow: '00:15:00', sharedConfigFlips: 4 });
  });

  it('refuses what no request could carry before sending it', async () => {
    const bad = securityRequest({ enabled: true, sessionConflictWindow: '5 min', sharedConfigFlips: 'three', sharedConfigWindow: '00:10:00', maxEndpointChangesPerDay: '50' });
    expect(bad).toBeInstanceOf(ApiError);
    expect((bad as ApiError).field('sessionConflictWindow')[0]).toMatch(/hh:mm:ss/);
    expect((bad as ApiError).field('sharedConfigFlips')[0]).toMatch(/whole number/);
    expect((bad as ApiError).field('sharedConfigWindow')).toEqual([]);
  });

  it('shows an analyst the settings read-only', async () => {
    fakeApi({ ...routes({ role: 'analyst' }), 'GET /api/v1/networks/n1/security': () => json(security) });
    renderApp('/networks/n1/security');
    expect(await screen.findByLabelText('Session conflict window')).toBeDisabled();
    expect(screen.queryByRole('button', { name: 'Save settings' })).toBeNull();
    expect(screen.getByText('Only admins change these settings.')).toBeInTheDocument();
  });
});

describe('what each identity sees', () => {
  const nav = () => screen.getByRole('navigation', { name: 'Main' });

  it('a global admin: tokens, users, events and every write', async () => {
    fakeApi(routes({ role: 'admin' }));
    renderApp('/networks');
    expect(await screen.findByRole('button', { name: 'New network' })).toBeInTheDocument();
    for (const link of ['API tokens', 'Users', 'Events']) expect(within(nav()).getByRole('link', { name: link })).toBeInTheDocument();
    expect(await screen.findByRole('button', { name: 'Edit corp' })).toBeInTheDocument();
  });

  it('a network-scoped admin: writes in its networks, but no tokens, users or new network', async () => {
    fakeApi({ ...routes({ role: 'admin', networkIds: ['n1'] }), 'GET /api/v1/networks': () => json([network()]) });
    renderApp('/networks');
    expect(await screen.findByRole('button', { name: 'Edit corp' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'New network' })).toBeNull();
    expect(within(nav()).queryByRole('link', { name: 'API tokens' })).toBeNull();
    expect(within(nav()).queryByRole('link', { name: 'Users' })).toBeNull();
    expect(within(nav()).getByRole('link', { name: 'Events' })).toBeInTheDocument();
    cleanup();
    renderApp('/networks/n1');
    expect(await screen.findByRole('button', { name: 'Add peer' })).toBeInTheDocument();
    cleanup();
    // The screens themselves are not there either.
    renderApp('/tokens');
    expect(await screen.findByText(/Nothing here/)).toBeInTheDocument();
  });

  it('an analyst: events and history, no writes', async () => {
    fakeApi(routes({ role: 'analyst' }));
    renderApp('/networks/n1');
    expect(await screen.findByText('hub')).toBeInTheDocument();
    await screen.findByText('analyst');
    expect(within(nav()).getByRole('link', { name: 'Events' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'History' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Add peer|Block|Delete/ })).toBeNull();
    expect(within(nav()).queryByRole('link', { name: 'API tokens' })).toBeNull();
  });

  it('a viewer: no event explorer, no history, no writes', async () => {
    fakeApi(routes({ role: 'viewer' }));
    renderApp('/networks/n1');
    expect(await screen.findByText('hub')).toBeInTheDocument();
    await screen.findByText('viewer');
    expect(within(nav()).queryByRole('link', { name: 'Events' })).toBeNull();
    expect(screen.queryByRole('link', { name: 'History' })).toBeNull();
    expect(screen.getByRole('link', { name: 'Security' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Add peer|Block|Delete/ })).toBeNull();
  });
});
