import { useState } from 'react';
import { useParams } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ApiError, isStatus, segmentation, type GroupView, type PeerView, type RouteView } from '../lib/api';
import { useSession } from '../lib/session';
import { invalidateSegmentation, useGroups, useRoutes } from '../lib/segmentation';
import { when } from '../lib/format';
import { Badge, ErrorNote, Field, Loading, Modal } from '../components/ui';
import { TargetPicker } from '../components/segmentation';
import { NetworkTabs, useNetwork, usePeers } from './NetworkDetail';

type Dialog = { kind: 'add' } | { kind: 'delete'; route: RouteView } | null;

/** Routes: subnets (or the internet, as an exit node) behind a peer, offered to groups, subject to policy. */
export function RoutesPage() {
  const { networkId = '' } = useParams();
  const { canWrite } = useSession();
  const network = useNetwork(networkId);
  const routes = useRoutes(networkId);
  const groups = useGroups(networkId);
  const peers = usePeers(networkId);
  const [dialog, setDialog] = useState<Dialog>(null);
  const close = () => setDialog(null);
  return (
    <section>
      <NetworkTabs network={network.data} current="routes" />
      <div className="page-head">
        <h2>Routes</h2>
        {canWrite && network.data && !routes.error && <button className="btn btn-primary" type="button" onClick={() => setDialog({ kind: 'add' })}>Add route</button>}
      </div>
      {isStatus(routes.error, 404) && network.data
        ? <p className="muted" role="status">Routes are not available on this server.</p>
        : <ErrorNote error={network.error ?? routes.error} />}
      {routes.isPending ? <Loading what="Loading routes" /> : routes.data && (
        <div className="table-wrap">
          <table className="routes">
            <thead>
              <tr>
                <th scope="col">Destination</th><th scope="col">Via</th><th scope="col">Offered to</th><th scope="col">Added</th>
                {canWrite && <th scope="col"><span className="visually-hidden">Actions</span></th>}
              </tr>
            </thead>
            <tbody>
              {routes.data.length === 0 && <tr><td colSpan={5} className="muted">No routes yet. A route makes a subnet behind a peer reachable to a group.</td></tr>}
              {routes.data.map(r => (
                <tr key={r.id} data-route={r.cidr}>
                  <th scope="row"><code>{r.cidr}</code>{r.exitNode && <Badge tone="info">exit node</Badge>}</th>
                  <td>{r.via.name}</td>
                  <td>{r.groups.length === 0 ? <span className="muted">every peer policy lets reach {r.via.name}</span>
                    : <ul className="chips">{r.groups.map(g => <li key={g.id}><Badge tone="info">group {g.name}</Badge></li>)}</ul>}</td>
                  <td>{when(r.createdAt)}</td>
                  {canWrite && (
                    <td className="row-actions">
                      <button className="btn btn-small btn-danger-ghost" type="button" onClick={() => setDialog({ kind: 'delete', route: r })} aria-label={`Delete route ${r.cidr}`}>Delete</button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Modal title="Add route" open={dialog?.kind === 'add'} onClose={close}>
        {dialog?.kind === 'add' && <RouteForm networkId={networkId} peers={peers.data ?? []} groups={groups.data ?? []} onDone={close} />}
      </Modal>
      <Modal title={dialog?.kind === 'delete' ? `Delete route ${dialog.route.cidr}` : ''} open={dialog?.kind === 'delete'} onClose={close}>
        {dialog?.kind === 'delete' && <DeleteRoute route={dialog.route} onDone={close} />}
      </Modal>
    </section>
  );
}

function RouteForm({ networkId, peers, groups, onDone }: { networkId: string; peers: PeerView[]; groups: GroupView[]; onDone: () => void }) {
  const client = useQueryClient();
  const [cidr, setCidr] = useState('');
  const [via, setVia] = useState('');
  const [offered, setOffered] = useState<string[]>([]);
  const add = useMutation({
    mutationFn: () => segmentation.addRoute(networkId, { cidr: cidr.trim(), via, groups: offered }),
    onSuccess: () => { invalidateSegmentation(client, networkId); onDone(); },
  });
  const err = add.error;
  return (
    <form className="form" noValidate onSubmit={e => { e.preventDefault(); add.mutate(); }}>
      {/* A refusal (the route covers the network, a peer's endpoint or the server) may come as a detail only, or
          also as a field message; the detail is shown unless it is already under its field. */}
      {!(err instanceof ApiError && Object.values(err.problem.errors ?? {}).flat().includes(err.message)) && <ErrorNote error={err} title="Refused" />}
      <Field label="Destination CIDR" name="cidr" error={err} hint="A subnet behind the peer, e.g. 192.168.10.0/24; 0.0.0.0/0 makes it an exit node">
        {p => <input {...p} value={cidr} onChange={e => setCidr(e.target.value)} required autoFocus placeholder="192.168.10.0/24" />}
      </Field>
      <Field label="Via peer" name="via" error={err}>
        {p => (
          <select {...p} value={via} onChange={e => setVia(e.target.value)} required>
            <option value="">Choose a peer…</option>
            {peers.map(x => <option key={x.id} value={x.id}>{x.name} ({x.address})</option>)}
          </select>
        )}
      </Field>
      <TargetPicker legend="Offered to groups" peers={groups.map(g => ({ id: g.id, name: g.name }))}
        value={{ groups: [], peers: offered }} onChange={v => setOffered(v.peers)} empty="No groups yet." />
      <small className="muted">No group: every peer that policy lets reach the via peer.</small>
      <div className="actions">
        <button className="btn" type="button" onClick={onDone}>Cancel</button>
        <button className="btn btn-primary" type="submit" disabled={add.isPending || !via}>Add route</button>
      </div>
    </form>
  );
}

function DeleteRoute({ route, onDone }: { route: RouteView; onDone: () => void }) {
  const client = useQueryClient();
  const del = useMutation({
    mutationFn: () => segmentation.deleteRoute(route.networkId, route.id),
    onSuccess: () => { invalidateSegmentation(client, route.networkId); onDone(); },
  });
  return (
    <div className="form">
      <p>Remove the route to <code>{route.cidr}</code> via {route.via.name}? Peers that used it lose that subnet at their next config.</p>
      <ErrorNote error={del.error} />
      <div className="actions">
        <button className="btn" type="button" onClick={onDone}>Cancel</button>
        <button className="btn btn-danger" type="button" onClick={() => del.mutate()} disabled={del.isPending}>Delete route</button>
      </div>
    </div>
  );
}
