import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { fakeApi, json, network, peer, problem, renderApp } from '../test/fakes';

afterEach(() => { cleanup(); sessionStorage.clear(); });

const incident = (over: object = {}) => ({
  id: 'i1', networkId: 'n1', peerId: 'p2', type: 'sessionConflict', state: 'open',
  summary: 'The same session heartbeated alternately from 192.0.2.1 and 192.0.2.2 within 5 min.',
  evidence: [
    { heartbeatId: 'h1', at: '2026-11-01T10:00:00Z', sessionId: 's1', sourceAddress: '192.0.2.1', endpoint: null },
    { heartbeatId: 'h2', at: '2026-11-01T10:00:05Z', sessionId: 's1', sourceAddress: '192.0.2.2', endpoint: null },
  ],
  detectedAt: '2026-11-01T10:00:05Z', resolvedAt: null, resolvedBy: null, resolutionNote: null, unblocked: false, ...over,
});

const routes = {
  'GET /api/v1/me': () => json({ tokenId: 't', name: 'admin', role: 'admin' }),
  'GET /api/v1/networks': () => json([network()]),
  'GET /api/v1/networks/n1/peers': () => json([peer(), peer({ id: 'p2', name: 'laptop', kind: 'dynamic', blocked: true, blockReason: 'incident' })]),
  'GET /api/v1/incidents': () => json([incident()]),
  'GET /api/v1/incidents/i1': () => json(incident()),
};

describe('incident detail', () => {
  it('shows the evidence and resolves with a note, unblocking the peer', async () => {
    let sent: unknown;
    fakeApi({
      ...routes,
      'POST /api/v1/incidents/i1/resolve': ({ body }) => {
        sent = body;
        const note = (body as { note: string }).note;
        return note ? json(incident({ state: 'resolved', resolutionNote: note, unblocked: true, resolvedBy: { name: 'admin' }, resolvedAt: '2026-11-01T11:00:00Z' }))
          : problem(400, 'note is required', { note: ['note is required (at most 2000 characters): say what was found and done.'] });
      },
    });
    renderApp('/incidents/i1');
    const evidence = await screen.findByRole('list', { name: 'Evidence timeline' });
    expect(within(evidence).getAllByRole('listitem')).toHaveLength(2);
    expect(screen.getByText(/2 heartbeats from 2 source addresses and 1 agent session/)).toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: 'Resolve incident' }));
    expect(await screen.findByText(/note is required/)).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText('Note'), 'Stolen copy removed.');
    await userEvent.click(screen.getByRole('button', { name: 'Resolve incident' }));
    expect(await screen.findByText('Stolen copy removed.')).toBeInTheDocument();
    expect(sent).toEqual({ note: 'Stolen copy removed.', unblock: true });
    expect(screen.queryByRole('button', { name: 'Resolve incident' })).toBeNull();
  });

  it('offers no resolve form to a read-only role', async () => {
    fakeApi({ ...routes, 'GET /api/v1/me': () => json({ tokenId: 't', name: 'auditor', role: 'analyst' }) });
    renderApp('/incidents/i1');
    await screen.findByRole('list', { name: 'Evidence timeline' });
    await screen.findByText('analyst');
    expect(screen.queryByRole('button', { name: 'Resolve incident' })).toBeNull();
  });
});

describe('event explorer', () => {
  it('filters, pages with `after` and exports NDJSON', async () => {
    const page = (from: number, next: number | null) => ({
      items: [0, 1].map(i => ({ sequence: from + i, streamId: 'n1', type: 'PeerBlocked', timestamp: '2026-11-01T10:00:00Z', actor: { name: 'admin' }, data: { reason: 'x' } })),
      next,
    });
    const api = fakeApi({
      ...routes,
      'GET /api/v1/me': () => json({ tokenId: 't', name: 'auditor', role: 'analyst' }),
      'GET /api/v1/events': ({ url, headers }) => headers.Accept === 'application/x-ndjson'
        ? new Response('{"sequence":1}\n{"sequence":2}\n', { headers: { 'Content-Type': 'application/x-ndjson' } })
        : json(url.searchParams.get('after') ? page(3, null) : page(1, 2)),
    });
    URL.createObjectURL = () => 'blob:fake';
    URL.revokeObjectURL = () => {};
    renderApp('/events');
    expect(await screen.findByRole('cell', { name: '1' })).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText('Types'), 'PeerBlocked, PeerUnblocked');
    await userEvent.selectOptions(screen.getByLabelText('Network'), 'n1');
    await userEvent.click(screen.getByRole('button', { name: 'Apply' }));
    await waitFor(() => expect(api.calls.some(c => c.url === '/api/v1/events?networkId=n1&type=PeerBlocked%2CPeerUnblocked&limit=100')).toBe(true));
    await userEvent.click(screen.getByRole('button', { name: 'Next page' }));
    expect(await screen.findByRole('cell', { name: '3' })).toBeInTheDocument();
    expect(api.calls.at(-1)!.url).toContain('after=2');
    expect(screen.getByRole('button', { name: 'Next page' })).toBeDisabled();
    await userEvent.click(screen.getByRole('button', { name: 'Previous page' }));
    expect(await screen.findByRole('cell', { name: '1' })).toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: 'Export NDJSON' }));
    await waitFor(() => expect(api.fetchMock.mock.calls.some(([, init]) => (init?.headers as Record<string, string>)?.Accept === 'application/x-ndjson')).toBe(true));
    const exportCall = api.calls.find((_, i) => (api.fetchMock.mock.calls[i][1]?.headers as Record<string, string>)?.Accept === 'application/x-ndjson')!;
    expect(exportCall.url).not.toContain('limit=');
  });

  it('tells a viewer the event stream is not for its role', async () => {
    fakeApi({ ...routes, 'GET /api/v1/me': () => json({ tokenId: 't', name: 'wall', role: 'viewer' }) });
    renderApp('/events');
    expect(await screen.findByText(/Your role may not read the event stream/)).toBeInTheDocument();
  });
});

describe('an ended session', () => {
  it('shows the sign-in page on the next 401', async () => {
    fakeApi({ ...routes, 'GET /api/v1/networks': () => problem(401, 'The session has ended.') });
    renderApp('/networks');
    expect(await screen.findByLabelText('API token')).toBeInTheDocument();
    expect(screen.queryByRole('navigation', { name: 'Main' })).toBeNull();
  });
});

describe('network settings', () => {
  it('lets an admin allow DNS names as peer endpoints, sending only that change of the allowance', async () => {
    const sent: unknown[] = [];
    fakeApi({
      ...routes,
      'PATCH /api/v1/networks/n1': ({ body }) => { sent.push(body); return json(network({ allowDnsEndpoints: true })); },
    });
    renderApp('/networks');
    await userEvent.click(await screen.findByRole('button', { name: 'Edit corp' }));
    const allow = screen.getByRole('checkbox', { name: /Allow DNS names as peer endpoints/ });
    expect(allow).not.toBeChecked();
    await userEvent.click(allow);
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]).toMatchObject({ name: 'corp', allowDnsEndpoints: true });
  });
});
