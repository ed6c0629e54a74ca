import { useState } from 'react';
import { useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  ApiError, isStatus, segmentation, targetIds, type PolicyTargetsView, type DefaultPolicy, type GroupView, type NetworkView, type PeerView, type PolicyDraft,
  type PolicyPreview, type PolicyTargets, type PolicyView, type PreviewRequest,
} from '../lib/api';
import { useSession } from '../lib/session';
import { invalidateSegmentation, useGroups, usePolicies } from '../lib/segmentation';
import { parsePortRule, portsText } from '../lib/ports';
import { Badge, ErrorNote, Field, FormProblem, Loading, Modal } from '../components/ui';
import { PortChips, PreviewDiff, TargetPicker } from '../components/segmentation';
import { NetworkTabs, useNetwork, usePeers } from './NetworkDetail';

type Dialog = { kind: 'create' } | { kind: 'edit' | 'delete'; policy: PolicyView } | { kind: 'default'; to: DefaultPolicy } | null;

/** Policies (allow rules) and the network's default for everything they do not mention. */
export function Policies() {
  const { networkId = '' } = useParams();
  const { canWrite } = useSession();
  const network = useNetwork(networkId);
  const policies = usePolicies(networkId);
  const groups = useGroups(networkId);
  const peers = usePeers(networkId);
  const [dialog, setDialog] = useState<Dialog>(null);
  const close = () => setDialog(null);
  const unavailable = isStatus(policies.error, 404) && !!network.data;
  const name = new Map<string, string>([...(groups.data ?? []).map(g => [g.id, g.name] as const), ...(peers.data ?? []).map(p => [p.id, p.name] as const)]);
  const targets = (t: PolicyTargetsView) => {
    // The view names its groups and peers; the lists are only a fallback for a bare id.
    const named = (r: PolicyTargetsView['groups'][number] | string, what: string) =>
      typeof r === 'string' ? { id: r, text: name.get(r) ?? `unknown ${what}` } : { id: r.id, text: r.name };
    const items = [...t.groups.map(g => ({ ...named(g, 'group'), group: true })), ...t.peers.map(p => ({ ...named(p, 'peer'), group: false }))];
    return items.length === 0 ? <span className="muted">nobody</span>
      : <ul className="chips">{items.map(i => <li key={i.id}><Badge tone={i.group ? 'info' : 'muted'}>{i.group ? `group ${i.text}` : i.text}</Badge></li>)}</ul>;
  };
  return (
    <section>
      <NetworkTabs network={network.data} current="policies" />
      {network.data && !unavailable && <DefaultPolicyCard network={network.data} canWrite={canWrite} onSwitch={to => setDialog({ kind: 'default', to })} />}
      <div className="page-head">
        <h2>Policies</h2>
        {canWrite && network.data && !policies.error && <button className="btn btn-primary" type="button" onClick={() => setDialog({ kind: 'create' })}>New policy</button>}
      </div>
      {unavailable ? <p className="muted" role="status">Policies are not available on this server.</p> : <ErrorNote error={network.error ?? policies.error} />}
      {policies.isPending ? <Loading what="Loading policies" /> : policies.data && (
        <div className="table-wrap">
          <table className="policies">
            <thead>
              <tr>
                <th scope="col">Name</th><th scope="col">From</th><th scope="col">To</th><th scope="col">Ports</th>
                {canWrite && <th scope="col"><span className="visually-hidden">Actions</span></th>}
              </tr>
            </thead>
            <tbody>
              {policies.data.length === 0 && <tr><td colSpan={5} className="muted">No policies yet. Each one allows connections from its sources to its destinations.</td></tr>}
              {policies.data.map(p => (
                <tr key={p.id} data-policy={p.name}>
                  <th scope="row">{p.name}{p.description && <small className="muted block">{p.description}</small>}</th>
                  <td>{targets(p.sources)}</td>
                  <td>{targets(p.destinations)}</td>
                  <td>{p.ports.length ? p.ports.map(x => <code key={x} className="port">{x} </code>) : <span className="muted">all ports</span>}</td>
                  {canWrite && (
                    <td className="row-actions">
                      <button className="btn btn-small" type="button" onClick={() => setDialog({ kind: 'edit', policy: p })} aria-label={`Edit ${p.name}`}>Edit</button>
                      <button className="btn btn-small btn-danger-ghost" type="button" onClick={() => setDialog({ kind: 'delete', policy: p })} aria-label={`Delete ${p.name}`}>Delete</button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Modal title="New policy" open={dialog?.kind === 'create'} onClose={close} wide>
        {dialog?.kind === 'create' && <PolicyEditor networkId={networkId} groups={groups.data ?? []} peers={peers.data ?? []} onDone={close} />}
      </Modal>
      <Modal title={dialog?.kind === 'edit' ? `Edit ${dialog.policy.name}` : ''} open={dialog?.kind === 'edit'} onClose={close} wide>
        {dialog?.kind === 'edit' && <PolicyEditor networkId={networkId} policy={dialog.policy} groups={groups.data ?? []} peers={peers.data ?? []} onDone={close} />}
      </Modal>
      <Modal title={dialog?.kind === 'delete' ? `Delete ${dialog.policy.name}` : ''} open={dialog?.kind === 'delete'} onClose={close} wide>
        {dialog?.kind === 'delete' && (
          <ConfirmChange networkId={networkId} change={{ remove: [dialog.policy.id] }} action={`Delete ${dialog.policy.name}`} danger
            intro={<p>Delete the policy <strong>{dialog.policy.name}</strong>? This is what it would change:</p>}
            commit={() => segmentation.deletePolicy(networkId, dialog.policy.id)} onDone={close} />
        )}
      </Modal>
      <Modal title={dialog?.kind === 'default' ? `Default policy: ${dialog.to}` : ''} open={dialog?.kind === 'default'} onClose={close} wide>
        {dialog?.kind === 'default' && (
          <ConfirmChange networkId={networkId} change={{ defaultPolicy: dialog.to }} action={`Switch to ${dialog.to}`} danger={dialog.to === 'deny'}
            intro={<p>{dialog.to === 'deny'
              ? 'With the default deny, peers reach each other only where a policy allows it. This is what it would change:'
              : 'With the default allow, every peer may reach every other one (the flat mesh); policies add nothing. This is what it would change:'}</p>}
            commit={() => segmentation.setDefaultPolicy(networkId, dialog.to)} onDone={close} />
        )}
      </Modal>
    </section>
  );
}

function DefaultPolicyCard({ network, canWrite, onSwitch }: { network: NetworkView; canWrite: boolean; onSwitch: (to: DefaultPolicy) => void }) {
  const current = network.defaultPolicy ?? 'allow';
  const other: DefaultPolicy = current === 'allow' ? 'deny' : 'allow';
  return (
    <div className="card policy-card" data-testid="default-policy" data-policy={current}>
      <p>
        <strong>Default policy: </strong><Badge tone={current === 'deny' ? 'warn' : 'ok'}>{current}</Badge>{' '}
        <span className="muted">{current === 'deny' ? 'Only what a policy allows gets through.' : 'Every peer may reach every other one; policies matter once the default is deny.'}</span>
      </p>
      {canWrite && <button type="button" className="btn" onClick={() => onSwitch(other)}>Switch to {other}…</button>}
    </div>
  );
}

/** The what-if answer for `change`, then the change itself only when the user confirms. */
function ConfirmChange({ networkId, change, intro, action, danger, commit, onDone }: {
  networkId: string; change: PreviewRequest; intro: React.ReactNode; action: string; danger?: boolean;
  commit: () => Promise<unknown>; onDone: () => void;
}) {
  const client = useQueryClient();
  const preview = useQuery({
    queryKey: ['preview', networkId, change],
    queryFn: () => segmentation.preview(networkId, change),
    staleTime: 0, gcTime: 0, retry: false,
  });
  const save = useMutation({ mutationFn: commit, onSuccess: () => { invalidateSegmentation(client, networkId); onDone(); } });
  return (
    <div className="form">
      {intro}
      {preview.isPending ? <Loading what="Working out what changes" /> : preview.data && <PreviewDiff preview={preview.data} />}
      <ErrorNote error={preview.error} title="Preview" />
      <ErrorNote error={save.error} />
      <div className="actions">
        <button className="btn" type="button" onClick={onDone}>Cancel</button>
        <button className={`btn ${danger ? 'btn-danger' : 'btn-primary'}`} type="button" onClick={() => save.mutate()} disabled={!preview.data || save.isPending}>{action}</button>
      </div>
    </div>
  );
}

const POLICY_FIELDS = ['name', 'description', 'sources', 'destinations', 'ports'];
const emptyTargets = (): PolicyTargets => ({ groups: [], peers: [] });

/**
 * A policy in two steps: edit, then review what the change does (the server's what-if answer) and save.
 * Nothing is saved before the review's Save; Cancel at either step leaves the network as it was.
 */
export function PolicyEditor({ networkId, policy, groups, peers, onDone }: {
  networkId: string; policy?: PolicyView; groups: GroupView[]; peers: PeerView[]; onDone: () => void;
}) {
  const client = useQueryClient();
  const [d, setD] = useState<PolicyDraft>(() => policy
    ? { name: policy.name, description: policy.description ?? '', sources: targetIds(policy.sources), destinations: targetIds(policy.destinations), ports: policy.ports }
    : { name: '', description: '', sources: emptyTargets(), destinations: emptyTargets(), ports: [] });
  const [portText, setPortText] = useState('');
  const [portError, setPortError] = useState<string | null>(null);
  const [review, setReview] = useState<PolicyPreview | null>(null);
  const body = (draft: PolicyDraft): PolicyDraft => ({ ...draft, description: draft.description || null });
  const preview = useMutation({
    mutationFn: (draft: PolicyDraft) => segmentation.preview(networkId, policy ? { update: [{ id: policy.id, ...body(draft) }] } : { add: [body(draft)] }),
    onSuccess: setReview,
  });
  const save = useMutation({
    mutationFn: () => (policy ? segmentation.updatePolicy(networkId, policy.id, body(d)) : segmentation.createPolicy(networkId, body(d))),
    onSuccess: () => { invalidateSegmentation(client, networkId); onDone(); },
  });
  const startReview = () => {
    // A rule still in the text box counts; an invalid one stops here with its message.
    let ports = d.ports;
    for (const entry of portText.split(/[\s,]+/).filter(Boolean)) {
      const rule = parsePortRule(entry);
      if (!rule.ok) { setPortError(rule.error); return; }
      if (!ports.includes(rule.text)) ports = [...ports, rule.text];
    }
    if (ports !== d.ports) { setD({ ...d, ports }); setPortText(''); }
    save.reset();
    preview.mutate({ ...d, ports });
  };
  const err = preview.error ?? save.error;
  const groupOptions = groups.map(g => ({ id: g.id, name: g.name, count: g.members.length }));
  const peerOptions = peers.map(p => ({ id: p.id, name: p.name, detail: ` ${p.address}` }));

  if (review) {
    return (
      <div className="form" data-step="review">
        <p>{policy ? 'Saving these changes to' : 'Creating'} <strong>{d.name}</strong> would change who may reach whom like this:</p>
        <PreviewDiff preview={review} />
        <SaveProblem error={save.error} />
        <div className="actions">
          <button className="btn" type="button" onClick={onDone}>Cancel</button>
          <button className="btn" type="button" onClick={() => setReview(null)}>Back to editing</button>
          <button className="btn btn-primary" type="button" onClick={() => save.mutate()} disabled={save.isPending}>{policy ? 'Save policy' : 'Create policy'}</button>
        </div>
      </div>
    );
  }
  return (
    <form className="form" noValidate data-step="edit" onSubmit={e => { e.preventDefault(); startReview(); }}>
      <FormProblem error={err} fields={POLICY_FIELDS} />
      <div className="row">
        <Field label="Name" name="name" error={err}>
          {p => <input {...p} value={d.name} onChange={e => setD({ ...d, name: e.target.value })} required autoFocus />}
        </Field>
        <Field label="Description" name="description" error={err} hint="Optional">
          {p => <input {...p} value={d.description ?? ''} onChange={e => setD({ ...d, description: e.target.value })} />}
        </Field>
      </div>
      <div className="row">
        <TargetPicker legend="Sources" groups={groupOptions} peers={peerOptions} value={d.sources} onChange={sources => setD({ ...d, sources })} />
        <TargetPicker legend="Destinations" groups={groupOptions} peers={peerOptions} value={d.destinations} onChange={destinations => setD({ ...d, destinations })} />
      </div>
      <FieldMessages error={err} names={['sources', 'destinations']} />
      <PortChips ports={d.ports} onChange={ports => setD({ ...d, ports })} text={portText} onText={setPortText} error={portError} onError={setPortError} />
      <FieldMessages error={err} names={['ports']} />
      <p className="muted small">Sources may open connections to destinations on {portsText(d.ports)}; replies are always allowed.</p>
      <div className="actions">
        <button className="btn" type="button" onClick={onDone}>Cancel</button>
        <button className="btn btn-primary" type="submit" disabled={preview.isPending}>Review changes</button>
      </div>
    </form>
  );
}

/** Server validation messages for fields that have no single input (pickers, chips), including nested keys (`sources.groups[0]`). */
function FieldMessages({ error, names }: { error: unknown; names: string[] }) {
  if (!(error instanceof ApiError)) return null;
  const under = (key: string, name: string) => { const k = key.toLowerCase(); const n = name.toLowerCase(); return k === n || k.startsWith(`${n}.`) || k.startsWith(`${n}[`); };
  const messages = Object.entries(error.problem.errors ?? {}).filter(([k]) => names.some(n => under(k, n))).flatMap(([, v]) => v);
  if (!messages.length) return null;
  return <small className="field-error" role="alert" data-field-error={names.join(' ')}>{messages.join(' ')}</small>;
}

/** A refused save on the review step: the problem's detail and every field message (the fields are a step back). */
function SaveProblem({ error }: { error: unknown }) {
  if (!error) return null;
  const messages = error instanceof ApiError ? Object.values(error.problem.errors ?? {}).flat() : [];
  return (
    <>
      <ErrorNote error={error} />
      {messages.length > 0 && <ul className="field-error">{messages.map((m, i) => <li key={i}>{m}</li>)}</ul>}
    </>
  );
}
