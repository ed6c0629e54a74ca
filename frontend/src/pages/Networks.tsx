import { useState } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, keys, type NetworkView } from '../lib/api';
import { useSession } from '../lib/session';
import { CapacityBar, ErrorNote, Field, FormProblem, Loading, Modal } from '../components/ui';

const FIELDS = ['name', 'cidr', 'domain', 'dns', 'mtu', 'allowDnsEndpoints'];

interface Draft { name: string; cidr: string; domain: string; dns: string; mtu: string; allowDns: boolean }
const emptyDraft: Draft = { name: '', cidr: '', domain: '', dns: '', mtu: '', allowDns: false };
const draftOf = (n: NetworkView): Draft => ({ name: n.name, cidr: n.cidr, domain: n.domain ?? '', dns: n.dns.join(', '), mtu: n.mtu?.toString() ?? '', allowDns: n.allowDnsEndpoints });

export function NetworkForm({ network, onDone }: { network?: NetworkView; onDone: (n: NetworkView) => void }) {
  const client = useQueryClient();
  const [draft, setDraft] = useState<Draft>(network ? draftOf(network) : emptyDraft);
  const set = (k: keyof Draft) => (e: React.ChangeEvent<HTMLInputElement>) => setDraft({ ...draft, [k]: e.target.value });
  const save = useMutation({
    mutationFn: () => {
      const dns = draft.dns.split(/[\s,]+/).filter(Boolean);
      const mtu = draft.mtu.trim() === '' ? undefined : Number(draft.mtu);
      if (network)
        // PATCH: "" / [] / 0 clear a setting; the CIDR is fixed.
        return api<NetworkView>(`/api/v1/networks/${network.id}`, {
          method: 'PATCH', body: {
            name: draft.name, domain: draft.domain, dns, mtu: mtu ?? 0,
            ...(draft.allowDns !== network.allowDnsEndpoints ? { allowDnsEndpoints: draft.allowDns } : {}),
          },
        });
      return api<NetworkView>('/api/v1/networks', {
        method: 'POST', body: { name: draft.name, cidr: draft.cidr, domain: draft.domain || undefined, dns: dns.length ? dns : undefined, mtu },
      });
    },
    onSuccess: n => {
      void client.invalidateQueries({ queryKey: keys.networks });
      void client.invalidateQueries({ queryKey: keys.network(n.id) });
      onDone(n);
    },
  });
  const err = save.error;
  return (
    <form className="form" noValidate onSubmit={e => { e.preventDefault(); save.mutate(); }}>
      <FormProblem error={err} fields={FIELDS} />
      <Field label="Name" name="name" error={err}>{p => <input {...p} value={draft.name} onChange={set('name')} required autoFocus />}</Field>
      <Field label="IPv4 CIDR" name="cidr" error={err} hint={network ? 'Fixed for the network’s life.' : '/8 to /30, no host bits, no overlap, e.g. 10.10.0.0/24'}>
        {p => <input {...p} value={draft.cidr} onChange={set('cidr')} disabled={!!network} placeholder="10.10.0.0/24" required />}
      </Field>
      <Field label="DNS domain" name="domain" error={err} hint="Optional, e.g. corp.internal">{p => <input {...p} value={draft.domain} onChange={set('domain')} />}</Field>
      <Field label="DNS servers" name="dns" error={err} hint="Optional, comma-separated IP addresses">{p => <input {...p} value={draft.dns} onChange={set('dns')} />}</Field>
      <Field label="MTU" name="mtu" error={err} hint="Optional">{p => <input {...p} value={draft.mtu} onChange={set('mtu')} inputMode="numeric" />}</Field>
      {network && (
        <label>
          <input type="checkbox" name="allowDnsEndpoints" checked={draft.allowDns} onChange={e => setDraft({ ...draft, allowDns: e.target.checked })} />
          {' '}Allow DNS names as peer endpoints (otherwise static peers and agents must give an IP address)
        </label>
      )}
      <div className="actions">
        <button className="btn btn-primary" type="submit" disabled={save.isPending}>{network ? 'Save' : 'Create network'}</button>
      </div>
    </form>
  );
}

export function DeleteNetwork({ network, onDone }: { network: NetworkView; onDone: () => void }) {
  const client = useQueryClient();
  const [confirm, setConfirm] = useState('');
  const del = useMutation({
    mutationFn: () => api(`/api/v1/networks/${network.id}${network.peers.total ? '?force=true' : ''}`, { method: 'DELETE' }),
    onSuccess: () => { void client.invalidateQueries({ queryKey: keys.networks }); onDone(); },
  });
  return (
    <form className="form" onSubmit={e => { e.preventDefault(); del.mutate(); }}>
      <p>
        Delete <strong>{network.name}</strong> ({network.cidr})?
        {network.peers.total > 0 && <> Its <strong>{network.peers.total} peers</strong> lose their configs and agent sessions.</>}
        {' '}The history stays in the audit trail.
      </p>
      <div className="field">
        <label htmlFor="confirm-delete">Type the network’s name to confirm</label>
        <input id="confirm-delete" value={confirm} onChange={e => setConfirm(e.target.value)} autoComplete="off" />
      </div>
      <ErrorNote error={del.error} />
      <div className="actions">
        <button className="btn btn-danger" type="submit" disabled={confirm !== network.name || del.isPending}>Delete network</button>
      </div>
    </form>
  );
}

export function Networks() {
  // A network-scoped admin changes its networks but creates none (the server lists only those in scope).
  const { canWrite, isGlobalAdmin } = useSession();
  const networks = useQuery({ queryKey: keys.networks, queryFn: () => api<NetworkView[]>('/api/v1/networks') });
  const [dialog, setDialog] = useState<{ kind: 'create' } | { kind: 'edit' | 'delete'; network: NetworkView } | null>(null);
  const close = () => setDialog(null);
  return (
    <section aria-labelledby="networks-title">
      <div className="page-head">
        <h1 id="networks-title">Networks</h1>
        {isGlobalAdmin && <button className="btn btn-primary" type="button" onClick={() => setDialog({ kind: 'create' })}>New network</button>}
      </div>
      <ErrorNote error={networks.error} />
      {networks.isPending ? <Loading /> : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr><th scope="col">Name</th><th scope="col">CIDR</th><th scope="col">Domain</th><th scope="col">Peers</th><th scope="col">Capacity</th>{canWrite && <th scope="col"><span className="visually-hidden">Actions</span></th>}</tr>
            </thead>
            <tbody>
              {networks.data?.length === 0 && <tr><td colSpan={6} className="muted">No networks yet.</td></tr>}
              {networks.data?.map(n => (
                <tr key={n.id}>
                  <th scope="row"><Link to={`/networks/${n.id}`}>{n.name}</Link></th>
                  <td><code>{n.cidr}</code></td>
                  <td>{n.domain ?? <span className="muted">—</span>}</td>
                  <td>{n.peers.total}{n.peers.blocked > 0 && <span className="badge badge-bad">{n.peers.blocked} blocked</span>}</td>
                  <td className="cell-meter"><CapacityBar ipam={n.ipam} label={`Address capacity of ${n.name}`} /></td>
                  {canWrite && (
                    <td className="row-actions">
                      <button className="btn btn-small" type="button" onClick={() => setDialog({ kind: 'edit', network: n })} aria-label={`Edit ${n.name}`}>Edit</button>
                      <button className="btn btn-small btn-danger-ghost" type="button" onClick={() => setDialog({ kind: 'delete', network: n })} aria-label={`Delete ${n.name}`}>Delete</button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Modal title="New network" open={dialog?.kind === 'create'} onClose={close}><NetworkForm onDone={close} /></Modal>
      <Modal title={`Edit ${dialog && dialog.kind !== 'create' ? dialog.network.name : ''}`} open={dialog?.kind === 'edit'} onClose={close}>
        {dialog?.kind === 'edit' && <NetworkForm network={dialog.network} onDone={close} />}
      </Modal>
      <Modal title="Delete network" open={dialog?.kind === 'delete'} onClose={close}>
        {dialog?.kind === 'delete' && <DeleteNetwork network={dialog.network} onDone={close} />}
      </Modal>
    </section>
  );
}
