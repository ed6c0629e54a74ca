import { lazy, Suspense, useEffect, useMemo, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, isStatus, keys, type NetworkView, type PeerKind, type PeerView, type Presence } from '../lib/api';
import { useSession } from '../lib/session';
import { Badge, CapacityBar, CopyButton, ErrorNote, Field, FormProblem, Loading, Modal } from '../components/ui';
import { ago, useNow, when } from '../lib/format';
import { enrollCommand } from '../lib/enroll';
import { reachableEndpoint } from '../lib/topology';

// Only needed when a static peer is created: loaded on demand.
const QRCodeSVG = lazy(() => import('qrcode.react').then(m => ({ default: m.QRCodeSVG })));

export type NetworkTab = 'peers' | 'groups' | 'policies' | 'routes' | 'topology' | 'history' | 'security';

export function NetworkTabs({ network, current }: { network: NetworkView | undefined; current: NetworkTab }) {
  const { canReadEvents } = useSession();
  if (!network) return null;
  const tab = (id: typeof current, label: string, to: string) => (
    <Link to={to} className={`tab${current === id ? ' tab-active' : ''}`} aria-current={current === id ? 'page' : undefined}>{label}</Link>
  );
  return (
    <div className="network-head">
      <p className="crumbs"><Link to="/networks">Networks</Link> /</p>
      <h1>{network.name} <code className="muted">{network.cidr}</code></h1>
      <nav className="tabs" aria-label="Network views">
        {tab('peers', 'Peers', `/networks/${network.id}`)}
        {tab('groups', 'Groups', `/networks/${network.id}/groups`)}
        {tab('policies', 'Policies', `/networks/${network.id}/policies`)}
        {tab('routes', 'Routes', `/networks/${network.id}/routes`)}
        {tab('topology', 'Topology', `/networks/${network.id}/topology`)}
        {canReadEvents && tab('history', 'History', `/networks/${network.id}/history`)}
        {tab('security', 'Security', `/networks/${network.id}/security`)}
      </nav>
    </div>
  );
}

export function useNetwork(networkId: string) {
  return useQuery({ queryKey: keys.network(networkId), queryFn: () => api<NetworkView>(`/api/v1/networks/${networkId}`) });
}
export function usePeers(networkId: string) {
  return useQuery({ queryKey: keys.peers(networkId), queryFn: () => api<PeerView[]>(`/api/v1/networks/${networkId}/peers`) });
}
export function usePresence(networkId: string) {
  return useQuery({ queryKey: keys.presence(networkId), queryFn: () => api<Presence[]>(`/api/v1/networks/${networkId}/presence`) });
}

type Dialog = { kind: 'create' } | { kind: 'created'; peer: PeerView } | { kind: 'block' | 'delete'; peer: PeerView } | null;

export function NetworkDetail() {
  const { networkId = '' } = useParams();
  const { canWrite } = useSession();
  const network = useNetwork(networkId);
  const peers = usePeers(networkId);
  const presence = usePresence(networkId);
  const client = useQueryClient();
  const now = useNow();
  const [dialog, setDialog] = useState<Dialog>(null);
  const close = () => setDialog(null);
  const unblock = useMutation({
    mutationFn: (p: PeerView) => api(`/api/v1/networks/${networkId}/peers/${p.id}/unblock`, { method: 'POST', body: {} }),
    onSettled: () => client.invalidateQueries({ queryKey: keys.peers(networkId) }),
  });

  if (isStatus(network.error, 404)) return <p role="alert">This network does not exist (any more). <Link to="/networks">All networks</Link></p>;
  const byPeer = new Map((presence.data ?? []).map(p => [p.peerId, p]));
  return (
    <section>
      <NetworkTabs network={network.data} current="peers" />
      <ErrorNote error={network.error ?? peers.error} />
      {network.data && (
        <div className="summary">
          <CapacityBar ipam={network.data.ipam} label={`Address capacity of ${network.data.name}`} />
          {network.data.defaultPolicy && (
            <Link to={`/networks/${networkId}/policies`} className="muted" data-testid="default-policy-summary">
              Default policy <Badge tone={network.data.defaultPolicy === 'deny' ? 'warn' : 'ok'}>{network.data.defaultPolicy}</Badge>
            </Link>
          )}
          <span className="muted">{network.data.domain ? `Domain ${network.data.domain}` : 'No DNS domain'}{network.data.dns.length ? ` · DNS ${network.data.dns.join(', ')}` : ''}{network.data.mtu ? ` · MTU ${network.data.mtu}` : ''}</span>
        </div>
      )}
      <div className="page-head">
        <h2>Peers</h2>
        {canWrite && network.data && <button className="btn btn-primary" type="button" onClick={() => setDialog({ kind: 'create' })}>Add peer</button>}
      </div>
      <ErrorNote error={unblock.error} title="Unblock" />
      {peers.isPending ? <Loading what="Loading peers" /> : (
        <div className="table-wrap">
          <table className="peers">
            <thead>
              <tr>
                <th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Address</th><th scope="col">State</th>
                <th scope="col">Endpoint</th><th scope="col">Groups</th><th scope="col">Flags</th>{canWrite && <th scope="col"><span className="visually-hidden">Actions</span></th>}
              </tr>
            </thead>
            <tbody>
              {peers.data?.length === 0 && <tr><td colSpan={8} className="muted">No peers yet.</td></tr>}
              {peers.data?.map(p => {
                const pr = byPeer.get(p.id);
                return (
                  <tr key={p.id} data-peer={p.name} className={p.blocked ? 'row-blocked' : undefined}>
                    <th scope="row">{p.name}</th>
                    <td><Badge tone={p.kind === 'jump' ? 'info' : 'muted'}>{p.kind}</Badge></td>
                    <td><code>{p.address}</code></td>
                    <td data-testid="state">
                      {p.blocked ? <Badge tone="bad">blocked</Badge>
                        : p.kind === 'static' ? <span className="muted">static config</span>
                        : !p.enrolled ? <Badge tone="warn">not enrolled</Badge>
                        : pr?.online ? <Badge tone="ok">online</Badge> : <Badge tone="muted">offline</Badge>}
                      {p.kind !== 'static' && p.enrolled && <small className="muted block" title={when(pr?.lastSeen)}>last seen {ago(pr?.lastSeen, now)}</small>}
                      {p.blocked && p.blockReason && <small className="muted block">{p.blockReason}</small>}
                    </td>
                    <td>{reachableEndpoint(p) ? <code>{reachableEndpoint(p)}</code> : <span className="muted">unknown</span>}</td>
                    <td data-testid="groups">
                      {p.groups?.length
                        ? <ul className="chips" aria-label={`Groups of ${p.name}`}>{p.groups.map(g => <li key={g.id}><Badge tone="info">{g.name}</Badge></li>)}</ul>
                        : <span className="muted">—</span>}
                    </td>
                    <td className="flags">
                      {p.isolated && <Badge tone="muted">isolated</Badge>}
                      {p.fullEncapsulation && <Badge tone="muted">full tunnel</Badge>}
                      {p.additionalAllowedIps.length > 0 && <Badge tone="muted">routes {p.additionalAllowedIps.join(', ')}</Badge>}
                    </td>
                    {canWrite && (
                      <td className="row-actions">
                        {p.blocked
                          ? <button className="btn btn-small" type="button" onClick={() => unblock.mutate(p)} aria-label={`Unblock ${p.name}`}>Unblock</button>
                          : <button className="btn btn-small" type="button" onClick={() => setDialog({ kind: 'block', peer: p })} aria-label={`Block ${p.name}`}>Block</button>}
                        <button className="btn btn-small btn-danger-ghost" type="button" onClick={() => setDialog({ kind: 'delete', peer: p })} aria-label={`Delete ${p.name}`}>Delete</button>
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <Modal title="Add peer" open={dialog?.kind === 'create'} onClose={close}>
        <PeerForm networkId={networkId} onCreated={peer => setDialog({ kind: 'created', peer })} />
      </Modal>
      <Modal title={dialog?.kind === 'created' ? `Peer ${dialog.peer.name} created` : ''} open={dialog?.kind === 'created'} onClose={close} wide>
        {dialog?.kind === 'created' && <OneTimeSecret peer={dialog.peer} onDone={close} />}
      </Modal>
      <Modal title={dialog?.kind === 'block' ? `Block ${dialog.peer.name}` : ''} open={dialog?.kind === 'block'} onClose={close}>
        {dialog?.kind === 'block' && <BlockForm peer={dialog.peer} onDone={close} />}
      </Modal>
      <Modal title={dialog?.kind === 'delete' ? `Delete ${dialog.peer.name}` : ''} open={dialog?.kind === 'delete'} onClose={close}>
        {dialog?.kind === 'delete' && <DeletePeer peer={dialog.peer} onDone={close} />}
      </Modal>
    </section>
  );
}

const PEER_FIELDS = ['name', 'kind', 'endpoint', 'listenPort', 'isolated', 'fullEncapsulation', 'additionalAllowedIps', 'address'];

function PeerForm({ networkId, onCreated }: { networkId: string; onCreated: (p: PeerView) => void }) {
  const client = useQueryClient();
  const [d, setD] = useState({ name: '', kind: 'dynamic' as PeerKind, endpoint: '', listenPort: '', isolated: false, fullEncapsulation: false, routes: '', address: '' });
  const create = useMutation({
    mutationFn: () => api<PeerView>(`/api/v1/networks/${networkId}/peers`, {
      method: 'POST',
      body: {
        name: d.name, kind: d.kind, endpoint: d.endpoint || undefined,
        listenPort: d.listenPort ? Number(d.listenPort) : undefined,
        isolated: d.isolated, fullEncapsulation: d.fullEncapsulation,
        additionalAllowedIps: d.routes.split(/[\s,]+/).filter(Boolean), address: d.address || undefined,
      },
    }),
    onSuccess: p => {
      void client.invalidateQueries({ queryKey: keys.peers(networkId) });
      void client.invalidateQueries({ queryKey: keys.network(networkId) });
      onCreated(p);
    },
  });
  const err = create.error;
  return (
    <form className="form" noValidate onSubmit={e => { e.preventDefault(); create.mutate(); }}>
      <FormProblem error={err} fields={PEER_FIELDS} />
      <Field label="Name" name="name" error={err} hint="A DNS label: letters, digits and hyphens">
        {p => <input {...p} value={d.name} onChange={e => setD({ ...d, name: e.target.value })} required autoFocus />}
      </Field>
      <Field label="Kind" name="kind" error={err}>
        {p => (
          <select {...p} value={d.kind} onChange={e => setD({ ...d, kind: e.target.value as PeerKind })}>
            <option value="dynamic">dynamic — managed by wirety-agent</option>
            <option value="jump">jump — public endpoint, relays for the others</option>
            <option value="static">static — a wg-quick config (phones, appliances)</option>
          </select>
        )}
      </Field>
      {d.kind === 'jump' && (
        <>
          <Field label="Public endpoint" name="endpoint" error={err} hint="host:port that every peer can reach">
            {p => <input {...p} value={d.endpoint} onChange={e => setD({ ...d, endpoint: e.target.value })} placeholder="vpn.example.com:51820" />}
          </Field>
          <Field label="Listen port" name="listenPort" error={err}>
            {p => <input {...p} value={d.listenPort} onChange={e => setD({ ...d, listenPort: e.target.value })} inputMode="numeric" placeholder="51820" />}
          </Field>
        </>
      )}
      <fieldset className="checks">
        <legend>Flags</legend>
        <label><input type="checkbox" checked={d.isolated} onChange={e => setD({ ...d, isolated: e.target.checked })} /> Isolated (sees only jump peers)</label>
        <label><input type="checkbox" checked={d.fullEncapsulation} onChange={e => setD({ ...d, fullEncapsulation: e.target.checked })} /> Full encapsulation (all traffic through the jump)</label>
      </fieldset>
      <Field label="Routes behind this peer" name="additionalAllowedIps" error={err} hint="Optional, comma-separated CIDRs">
        {p => <input {...p} value={d.routes} onChange={e => setD({ ...d, routes: e.target.value })} />}
      </Field>
      <Field label="Address" name="address" error={err} hint="Optional; the next free address otherwise">
        {p => <input {...p} value={d.address} onChange={e => setD({ ...d, address: e.target.value })} />}
      </Field>
      <div className="actions"><button className="btn btn-primary" type="submit" disabled={create.isPending}>Create peer</button></div>
    </form>
  );
}

/** The creation response's secret, shown once: it is stored nowhere, so closing this loses it. */
function OneTimeSecret({ peer, onDone }: { peer: PeerView; onDone: () => void }) {
  const server = window.location.origin;
  const download = useMemo(() => (peer.config ? URL.createObjectURL(new Blob([peer.config], { type: 'text/plain' })) : ''), [peer.config]);
  useEffect(() => () => { if (download) URL.revokeObjectURL(download); }, [download]);
  if (peer.config) {
    return (
      <div className="secret">
        <p className="alert alert-warn">This config holds the peer’s private key. It is shown <strong>only now</strong>: download it or scan it with the WireGuard app.</p>
        <div className="secret-grid">
          <div className="qr" role="img" aria-label={`QR code of ${peer.name}'s WireGuard config`}>
            <Suspense fallback={<Loading what="Drawing the QR code" />}><QRCodeSVG value={peer.config} size={232} marginSize={2} level="L" /></Suspense>
          </div>
          <pre className="code" data-testid="static-config">{peer.config}</pre>
        </div>
        <div className="actions">
          <a className="btn btn-primary" href={download} download={`${peer.name}.conf`}>Download {peer.name}.conf</a>
          <CopyButton text={peer.config} label="Copy config" />
          <button className="btn" type="button" onClick={onDone}>Done</button>
        </div>
      </div>
    );
  }
  const token = peer.enrollmentToken ?? '';
  const command = enrollCommand(server, token);
  return (
    <div className="secret">
      <p className="alert alert-warn">The enrollment token is shown <strong>only now</strong>. It works once{peer.enrollmentTokenExpiresAt ? ` and expires ${when(peer.enrollmentTokenExpiresAt)}` : ''}.</p>
      <div className="field">
        <label htmlFor="enroll-token">Enrollment token</label>
        <div className="copy-row">
          <input id="enroll-token" readOnly value={token} onFocus={e => e.target.select()} data-testid="enrollment-token" />
          <CopyButton text={token} label="Copy token" />
        </div>
      </div>
      <div className="field">
        <label htmlFor="enroll-command">On the machine, run</label>
        <div className="copy-row">
          <pre className="code" id="enroll-command" data-testid="enroll-command">{command}</pre>
          <CopyButton text={command} label="Copy command" />
        </div>
        <small className="muted">Or pass <code>--token -</code> and paste the token on stdin to keep it out of the process list.</small>
      </div>
      <div className="actions"><button className="btn btn-primary" type="button" onClick={onDone}>Done</button></div>
    </div>
  );
}

function BlockForm({ peer, onDone }: { peer: PeerView; onDone: () => void }) {
  const client = useQueryClient();
  const [reason, setReason] = useState('');
  const block = useMutation({
    mutationFn: () => api(`/api/v1/networks/${peer.networkId}/peers/${peer.id}/block`, { method: 'POST', body: { reason } }),
    onSuccess: () => { void client.invalidateQueries({ queryKey: keys.peers(peer.networkId) }); onDone(); },
  });
  return (
    <form className="form" noValidate onSubmit={e => { e.preventDefault(); block.mutate(); }}>
      <p>{peer.name} drops out of every other peer’s config and its own lists no peers. Unblocking restores it.</p>
      <FormProblem error={block.error} fields={['reason']} />
      <Field label="Reason" name="reason" error={block.error}>{p => <input {...p} value={reason} onChange={e => setReason(e.target.value)} required autoFocus />}</Field>
      <div className="actions"><button className="btn btn-danger" type="submit" disabled={block.isPending}>Block {peer.name}</button></div>
    </form>
  );
}

function DeletePeer({ peer, onDone }: { peer: PeerView; onDone: () => void }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const del = useMutation({
    mutationFn: () => api(`/api/v1/networks/${peer.networkId}/peers/${peer.id}`, { method: 'DELETE' }),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: keys.peers(peer.networkId) });
      void client.invalidateQueries({ queryKey: keys.network(peer.networkId) });
      onDone();
      navigate(`/networks/${peer.networkId}`);
    },
  });
  return (
    <div className="form">
      <p>Delete <strong>{peer.name}</strong> ({peer.address})? Its address is released and its agent session is revoked at once.</p>
      <ErrorNote error={del.error} />
      <div className="actions">
        <button className="btn" type="button" onClick={onDone}>Cancel</button>
        <button className="btn btn-danger" type="button" onClick={() => del.mutate()} disabled={del.isPending}>Delete {peer.name}</button>
      </div>
    </div>
  );
}
