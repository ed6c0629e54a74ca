import { useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, isStatus, keys, qs, request, type EventPage, type NetworkView } from '../lib/api';
import { useSession } from '../lib/session';
import { ErrorNote, Loading } from '../components/ui';
import { actorName, localToIso, when } from '../lib/format';

interface Filters { networkId: string; peerId: string; type: string; from: string; to: string; includeArchived: boolean; limit: number }
const initial: Filters = { networkId: '', peerId: '', type: '', from: '', to: '', includeArchived: false, limit: 100 };

const queryOf = (f: Filters, after?: number | null, paged = true) => qs({
  networkId: f.networkId, peerId: f.peerId.trim(), type: f.type.replace(/\s+/g, ''), from: localToIso(f.from), to: localToIso(f.to),
  includeArchived: f.includeArchived || undefined, limit: paged ? f.limit : undefined, after,
});

export default function EventExplorer() {
  const { canReadEvents, me } = useSession();
  const networks = useQuery({ queryKey: keys.networks, queryFn: () => api<NetworkView[]>('/api/v1/networks') });
  const [draft, setDraft] = useState<Filters>(initial);
  const [filters, setFilters] = useState<Filters>(initial);
  // Keyset paging: the `after` of each page seen so far, so "previous" needs no offsets.
  const [pages, setPages] = useState<(number | null)[]>([null]);
  const after = pages[pages.length - 1];
  const events = useQuery({
    queryKey: ['events', filters, after],
    queryFn: () => api<EventPage>(`/api/v1/events${queryOf(filters, after)}`),
    enabled: canReadEvents,
    placeholderData: keepPreviousData,
  });
  const [exporting, setExporting] = useState<unknown>(null);

  if (!me) return <section><h1>Events</h1><Loading /></section>;
  if (!canReadEvents || isStatus(events.error, 403)) return <section><h1>Events</h1><p role="alert">Your role may not read the event stream (analysts and admins may).</p></section>;

  const exportNdjson = async () => {
    setExporting(null);
    try {
      const response = await request(`/api/v1/events${queryOf(filters, null, false)}`, { accept: 'application/x-ndjson' });
      const url = URL.createObjectURL(await response.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = `wirety-events-${new Date().toISOString().replace(/[:.]/g, '-')}.ndjson`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setExporting(e);
    }
  };
  const set = <K extends keyof Filters>(k: K, v: Filters[K]) => setDraft({ ...draft, [k]: v });
  return (
    <section aria-labelledby="events-title">
      <h1 id="events-title">Events</h1>
      <form className="card filters" onSubmit={e => { e.preventDefault(); setFilters(draft); setPages([null]); }}>
        <div className="field"><label htmlFor="f-network">Network</label>
          <select id="f-network" value={draft.networkId} onChange={e => set('networkId', e.target.value)}>
            <option value="">All networks</option>
            {networks.data?.map(n => <option key={n.id} value={n.id}>{n.name}</option>)}
          </select></div>
        <div className="field"><label htmlFor="f-peer">Peer id</label><input id="f-peer" value={draft.peerId} onChange={e => set('peerId', e.target.value)} placeholder="GUID" /></div>
        <div className="field"><label htmlFor="f-type">Types</label><input id="f-type" value={draft.type} onChange={e => set('type', e.target.value)} placeholder="PeerBlocked, IncidentDetected" /></div>
        <div className="field"><label htmlFor="f-from">From</label><input id="f-from" type="datetime-local" value={draft.from} onChange={e => set('from', e.target.value)} /></div>
        <div className="field"><label htmlFor="f-to">To</label><input id="f-to" type="datetime-local" value={draft.to} onChange={e => set('to', e.target.value)} /></div>
        <div className="field"><label htmlFor="f-limit">Per page</label>
          <select id="f-limit" value={draft.limit} onChange={e => set('limit', Number(e.target.value))}>{[50, 100, 250, 1000].map(n => <option key={n}>{n}</option>)}</select></div>
        <label className="check"><input type="checkbox" checked={draft.includeArchived} onChange={e => set('includeArchived', e.target.checked)} /> Include archived heartbeats</label>
        <div className="actions">
          <button className="btn btn-primary" type="submit">Apply</button>
          <button className="btn" type="button" onClick={exportNdjson}>Export NDJSON</button>
        </div>
      </form>
      <ErrorNote error={events.error} />
      <ErrorNote error={exporting} title="Export" />
      {events.isPending ? <Loading /> : (
        <>
          <div className="table-wrap">
            <table className="events">
              <thead><tr><th scope="col">#</th><th scope="col">Time</th><th scope="col">Type</th><th scope="col">Actor</th><th scope="col">Data</th></tr></thead>
              <tbody>
                {events.data?.items.length === 0 && <tr><td colSpan={5} className="muted">No events match.</td></tr>}
                {events.data?.items.map(e => (
                  <tr key={e.sequence}>
                    <td>{e.sequence}</td><td>{when(e.timestamp)}</td><th scope="row">{e.type}</th><td>{actorName(e.actor)}</td>
                    <td><details><summary>data</summary><pre className="code">{JSON.stringify(e.data, null, 2)}</pre></details></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="actions pager">
            <button className="btn btn-small" type="button" disabled={pages.length <= 1} onClick={() => setPages(pages.slice(0, -1))}>Previous page</button>
            <span className="muted">Page {pages.length}</span>
            <button className="btn btn-small" type="button" disabled={events.data?.next == null} onClick={() => setPages([...pages, events.data!.next])}>Next page</button>
          </div>
        </>
      )}
    </section>
  );
}
