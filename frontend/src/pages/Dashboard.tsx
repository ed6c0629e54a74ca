import { Link } from 'react-router';
import { useQueries, useQuery } from '@tanstack/react-query';
import { api, keys, type Incident, type NetworkView, type PeerView, type Presence } from '../lib/api';
import { CapacityBar, ErrorNote, Loading } from '../components/ui';
import { ago, incidentTypeLabel } from '../lib/format';
import { useSession } from '../lib/session';

export function Dashboard() {
  const { isGlobalAdmin } = useSession();
  const networks = useQuery({ queryKey: keys.networks, queryFn: () => api<NetworkView[]>('/api/v1/networks') });
  const incidents = useQuery({ queryKey: keys.incidents({ state: 'open' }), queryFn: () => api<Incident[]>('/api/v1/incidents?state=open') });
  const list = networks.data ?? [];
  const presence = useQueries({
    queries: list.map(n => ({ queryKey: keys.presence(n.id), queryFn: () => api<Presence[]>(`/api/v1/networks/${n.id}/presence`) })),
  });
  const peers = useQueries({
    queries: list.map(n => ({ queryKey: keys.peers(n.id), queryFn: () => api<PeerView[]>(`/api/v1/networks/${n.id}/peers`) })),
  });
  const names = new Map(list.map(n => [n.id, n.name]));
  return (
    <section aria-labelledby="dash-title">
      <h1 id="dash-title">Dashboard</h1>
      <ErrorNote error={networks.error} title="Networks" />
      {networks.isPending ? <Loading what="Loading networks" /> : (
        <div className="grid">
          {list.length === 0 && (
            <div className="card empty">
              <p>No networks yet.</p>
              {isGlobalAdmin && <Link className="btn btn-primary" to="/networks">Create a network</Link>}
            </div>
          )}
          {list.map((n, i) => {
            const peerList = peers[i]?.data ?? [];
            const onlineIds = new Set((presence[i]?.data ?? []).filter(p => p.online).map(p => p.peerId));
            const blocked = peerList.filter(p => p.blocked).length;
            const online = peerList.filter(p => !p.blocked && onlineIds.has(p.id)).length;
            const agentPeers = peerList.filter(p => p.kind !== 'static' && !p.blocked).length;
            return (
              <article key={n.id} className="card network-card" aria-labelledby={`net-${n.id}`}>
                <header className="card-head">
                  <h2 id={`net-${n.id}`}><Link to={`/networks/${n.id}`}>{n.name}</Link></h2>
                  <code>{n.cidr}</code>
                </header>
                <dl className="stats" data-testid={`stats-${n.name}`}>
                  <div><dt>Peers</dt><dd>{n.peers.total}</dd></div>
                  <div className="stat-ok"><dt>Online</dt><dd data-stat="online">{online}</dd></div>
                  <div><dt>Offline</dt><dd data-stat="offline">{Math.max(agentPeers - online, 0)}</dd></div>
                  <div className={blocked ? 'stat-bad' : ''}><dt>Blocked</dt><dd data-stat="blocked">{blocked}</dd></div>
                </dl>
                <CapacityBar ipam={n.ipam} label={`Address capacity of ${n.name}`} />
              </article>
            );
          })}
        </div>
      )}
      <h2>Open incidents</h2>
      <ErrorNote error={incidents.error} title="Incidents" />
      {incidents.data?.length === 0 && <p className="muted">No open incidents.</p>}
      {!!incidents.data?.length && (
        <ul className="list">
          {incidents.data.map(i => (
            <li key={i.id}>
              <Link to={`/incidents/${i.id}`}>
                <span className="badge badge-bad">{incidentTypeLabel[i.type] ?? i.type}</span> {i.summary}
              </Link>
              <small className="muted"> · {names.get(i.networkId) ?? 'network'} · {ago(i.detectedAt)}</small>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
