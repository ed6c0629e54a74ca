import { useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, isStatus, keys, type Incident, type NetworkView, type PeerView } from '../lib/api';
import { useSession } from '../lib/session';
import { Badge, ErrorNote, Field, FormProblem, Loading } from '../components/ui';
import { actorName, ago, incidentTypeLabel, when } from '../lib/format';

function useNames() {
  const networks = useQuery({ queryKey: keys.networks, queryFn: () => api<NetworkView[]>('/api/v1/networks') });
  return new Map((networks.data ?? []).map(n => [n.id, n.name]));
}

export function Incidents() {
  const [params, setParams] = useSearchParams();
  const state = params.get('state') ?? 'open';
  const filter = { state: state === 'all' ? undefined : state };
  const incidents = useQuery({
    queryKey: keys.incidents(filter),
    queryFn: () => api<Incident[]>(`/api/v1/incidents${filter.state ? `?state=${filter.state}` : ''}`),
  });
  const names = useNames();
  return (
    <section aria-labelledby="incidents-title">
      <div className="page-head">
        <h1 id="incidents-title">Incidents</h1>
        <div className="segmented" role="group" aria-label="Show">
          {['open', 'resolved', 'all'].map(s => (
            <button key={s} type="button" className={`btn btn-small${s === state ? ' btn-selected' : ''}`} aria-pressed={s === state}
              onClick={() => setParams({ state: s })}>{s}</button>
          ))}
        </div>
      </div>
      <ErrorNote error={incidents.error} />
      {incidents.isPending ? <Loading /> : (
        <div className="table-wrap">
          <table>
            <thead><tr><th scope="col">Detected</th><th scope="col">Type</th><th scope="col">Summary</th><th scope="col">Network</th><th scope="col">State</th></tr></thead>
            <tbody>
              {incidents.data?.length === 0 && <tr><td colSpan={5} className="muted">No {state === 'all' ? '' : state} incidents.</td></tr>}
              {incidents.data?.map(i => (
                <tr key={i.id} data-incident={i.id}>
                  <td title={when(i.detectedAt)}>{ago(i.detectedAt)}</td>
                  <td><Badge tone={i.state === 'open' ? 'bad' : 'muted'}>{incidentTypeLabel[i.type] ?? i.type}</Badge></td>
                  <th scope="row"><Link to={`/incidents/${i.id}`}>{i.summary}</Link></th>
                  <td>{names.get(i.networkId) ?? <span className="muted">deleted</span>}</td>
                  <td>{i.state === 'open' ? <Badge tone="bad">open</Badge> : <Badge tone="ok">resolved</Badge>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function IncidentDetail() {
  const { incidentId = '' } = useParams();
  const { canWrite } = useSession();
  const incident = useQuery({ queryKey: keys.incident(incidentId), queryFn: () => api<Incident>(`/api/v1/incidents/${incidentId}`) });
  const i = incident.data;
  const peers = useQuery({
    queryKey: keys.peers(i?.networkId ?? ''),
    queryFn: () => api<PeerView[]>(`/api/v1/networks/${i!.networkId}/peers`),
    enabled: !!i,
  });
  const names = useNames();
  if (isStatus(incident.error, 404)) return <p role="alert">There is no such incident. <Link to="/incidents">All incidents</Link></p>;
  if (!i) return <><ErrorNote error={incident.error} />{incident.isPending && <Loading />}</>;
  const peer = peers.data?.find(p => p.id === i.peerId);
  const sources = new Set(i.evidence.map(e => e.sourceAddress));
  const sessions = new Set(i.evidence.map(e => e.sessionId));
  return (
    <section aria-labelledby="incident-title">
      <p className="crumbs"><Link to="/incidents">Incidents</Link> /</p>
      <h1 id="incident-title">{incidentTypeLabel[i.type] ?? i.type} {i.state === 'open' ? <Badge tone="bad">open</Badge> : <Badge tone="ok">resolved</Badge>}</h1>
      <p className="lead">{i.summary}</p>
      <dl className="facts">
        <div><dt>Network</dt><dd><Link to={`/networks/${i.networkId}`}>{names.get(i.networkId) ?? i.networkId}</Link></dd></div>
        <div><dt>Peer</dt><dd>{peer ? <>{peer.name} <code>{peer.address}</code> {peer.blocked ? <Badge tone="bad">blocked</Badge> : <Badge tone="ok">not blocked</Badge>}</> : <span className="muted">deleted</span>}</dd></div>
        <div><dt>Detected</dt><dd>{when(i.detectedAt)}</dd></div>
        {i.state === 'resolved' && <div><dt>Resolved</dt><dd>{when(i.resolvedAt)} by {actorName(i.resolvedBy)}{i.unblocked ? ', peer unblocked' : ''}</dd></div>}
        {i.resolutionNote && <div><dt>Note</dt><dd>{i.resolutionNote}</dd></div>}
      </dl>
      <h2>Evidence</h2>
      <p className="muted">{i.evidence.length} heartbeats from {sources.size} source address{sources.size === 1 ? '' : 'es'} and {sessions.size} agent session{sessions.size === 1 ? '' : 's'}.</p>
      <ol className="timeline" aria-label="Evidence timeline">
        {i.evidence.map(e => (
          <li key={e.heartbeatId}>
            <time dateTime={e.at}>{when(e.at)}</time>
            <span>heartbeat from <code>{e.sourceAddress}</code>{e.endpoint && <> · endpoint <code>{e.endpoint}</code></>}</span>
            <small className="muted">session {e.sessionId.slice(0, 8)}</small>
          </li>
        ))}
      </ol>
      {i.state === 'open' && canWrite && <ResolveForm incident={i} blocked={peer?.blocked ?? false} />}
    </section>
  );
}

function ResolveForm({ incident, blocked }: { incident: Incident; blocked: boolean }) {
  const client = useQueryClient();
  const [note, setNote] = useState('');
  const [unblock, setUnblock] = useState(true);
  const resolve = useMutation({
    mutationFn: () => api<Incident>(`/api/v1/incidents/${incident.id}/resolve`, { method: 'POST', body: { note, unblock } }),
    onSuccess: updated => {
      client.setQueryData(keys.incident(incident.id), updated);
      void client.invalidateQueries({ queryKey: keys.incidents() });
      void client.invalidateQueries({ queryKey: keys.peers(incident.networkId) });
    },
  });
  return (
    <form className="card form" noValidate onSubmit={e => { e.preventDefault(); resolve.mutate(); }} aria-labelledby="resolve-title">
      <h2 id="resolve-title">Resolve</h2>
      <FormProblem error={resolve.error} fields={['note']} />
      <Field label="Note" name="note" error={resolve.error} hint="What was found and done (kept in the audit trail)">
        {p => <textarea {...p} rows={3} value={note} onChange={e => setNote(e.target.value)} required />}
      </Field>
      {blocked && <label className="check"><input type="checkbox" checked={unblock} onChange={e => setUnblock(e.target.checked)} /> Unblock the peer</label>}
      <div className="actions"><button className="btn btn-primary" type="submit" disabled={resolve.isPending}>Resolve incident</button></div>
    </form>
  );
}
