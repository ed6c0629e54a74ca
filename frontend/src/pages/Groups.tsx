import { useState } from 'react';
import { useParams } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { isStatus, segmentation, type GroupView, type PeerView } from '../lib/api';
import { useSession } from '../lib/session';
import { invalidateSegmentation, useGroups } from '../lib/segmentation';
import { Badge, ErrorNote, Field, FormProblem, Loading, Modal } from '../components/ui';
import { TargetPicker } from '../components/segmentation';
import { NetworkTabs, useNetwork, usePeers } from './NetworkDetail';

type Dialog = { kind: 'create' } | { kind: 'edit' | 'members' | 'delete'; group: GroupView } | null;

/** Groups: named sets of peers that policies and routes refer to. */
export function Groups() {
  const { networkId = '' } = useParams();
  const { canWrite } = useSession();
  const network = useNetwork(networkId);
  const groups = useGroups(networkId);
  const peers = usePeers(networkId);
  const [dialog, setDialog] = useState<Dialog>(null);
  const close = () => setDialog(null);
  return (
    <section>
      <NetworkTabs network={network.data} current="groups" />
      <div className="page-head">
        <h2>Groups</h2>
        {canWrite && network.data && !groups.error && <button className="btn btn-primary" type="button" onClick={() => setDialog({ kind: 'create' })}>New group</button>}
      </div>
      {isStatus(groups.error, 404) && network.data
        ? <p className="muted" role="status">Groups are not available on this server.</p>
        : <ErrorNote error={network.error ?? groups.error} />}
      {groups.isPending ? <Loading what="Loading groups" /> : groups.data && (
        <div className="table-wrap">
          <table className="groups">
            <thead>
              <tr>
                <th scope="col">Name</th><th scope="col">Description</th><th scope="col">Members</th>
                {canWrite && <th scope="col"><span className="visually-hidden">Actions</span></th>}
              </tr>
            </thead>
            <tbody>
              {groups.data.length === 0 && <tr><td colSpan={4} className="muted">No groups yet. A group names a set of peers for policies and routes.</td></tr>}
              {groups.data.map(g => (
                <tr key={g.id} data-group={g.name}>
                  <th scope="row">{g.name}</th>
                  <td>{g.description || <span className="muted">—</span>}</td>
                  <td data-testid="members">
                    {g.members.length === 0 ? <span className="muted">no members</span>
                      : <ul className="chips" aria-label={`Members of ${g.name}`}>{g.members.map(m => <li key={m.id}><Badge tone="muted">{m.name}</Badge></li>)}</ul>}
                  </td>
                  {canWrite && (
                    <td className="row-actions">
                      <button className="btn btn-small" type="button" onClick={() => setDialog({ kind: 'members', group: g })} aria-label={`Members of ${g.name}`}>Members</button>
                      <button className="btn btn-small" type="button" onClick={() => setDialog({ kind: 'edit', group: g })} aria-label={`Edit ${g.name}`}>Edit</button>
                      <button className="btn btn-small btn-danger-ghost" type="button" onClick={() => setDialog({ kind: 'delete', group: g })} aria-label={`Delete ${g.name}`}>Delete</button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Modal title="New group" open={dialog?.kind === 'create'} onClose={close}>
        {dialog?.kind === 'create' && <GroupForm networkId={networkId} onDone={close} />}
      </Modal>
      <Modal title={dialog?.kind === 'edit' ? `Edit ${dialog.group.name}` : ''} open={dialog?.kind === 'edit'} onClose={close}>
        {dialog?.kind === 'edit' && <GroupForm networkId={networkId} group={dialog.group} onDone={close} />}
      </Modal>
      <Modal title={dialog?.kind === 'members' ? `Members of ${dialog.group.name}` : ''} open={dialog?.kind === 'members'} onClose={close}>
        {dialog?.kind === 'members' && <MembersForm group={dialog.group} peers={peers.data ?? []} onDone={close} />}
      </Modal>
      <Modal title={dialog?.kind === 'delete' ? `Delete ${dialog.group.name}` : ''} open={dialog?.kind === 'delete'} onClose={close}>
        {dialog?.kind === 'delete' && <DeleteGroup group={dialog.group} onDone={close} />}
      </Modal>
    </section>
  );
}

function GroupForm({ networkId, group, onDone }: { networkId: string; group?: GroupView; onDone: () => void }) {
  const client = useQueryClient();
  const [name, setName] = useState(group?.name ?? '');
  const [description, setDescription] = useState(group?.description ?? '');
  const save = useMutation({
    mutationFn: () => {
      if (!group) return segmentation.createGroup(networkId, { name, description: description || undefined });
      // Only what changed: a rename alone leaves the description as it is.
      const body: { name?: string; description?: string } = {};
      if (name !== group.name) body.name = name;
      if (description !== (group.description ?? '')) body.description = description;
      return segmentation.updateGroup(networkId, group.id, body);
    },
    onSuccess: () => { invalidateSegmentation(client, networkId); onDone(); },
  });
  const err = save.error;
  return (
    <form className="form" noValidate onSubmit={e => { e.preventDefault(); save.mutate(); }}>
      <FormProblem error={err} fields={['name', 'description']} />
      <Field label="Name" name="name" error={err} hint="Unique in the network, e.g. servers or devs">
        {p => <input {...p} value={name} onChange={e => setName(e.target.value)} required autoFocus />}
      </Field>
      <Field label="Description" name="description" error={err} hint="Optional">
        {p => <input {...p} value={description} onChange={e => setDescription(e.target.value)} />}
      </Field>
      <div className="actions">
        <button className="btn" type="button" onClick={onDone}>Cancel</button>
        <button className="btn btn-primary" type="submit" disabled={save.isPending}>{group ? 'Save' : 'Create group'}</button>
      </div>
    </form>
  );
}

/** Membership as a whole: the picked peers replace the group's members (PUT). */
function MembersForm({ group, peers, onDone }: { group: GroupView; peers: PeerView[]; onDone: () => void }) {
  const client = useQueryClient();
  const [picked, setPicked] = useState(() => group.members.map(m => m.id));
  const save = useMutation({
    mutationFn: () => segmentation.setMembers(group.networkId, group.id, picked),
    onSuccess: () => { invalidateSegmentation(client, group.networkId); onDone(); },
  });
  // Members the peer list does not know (yet) stay pickable under their names.
  const known = new Set(peers.map(p => p.id));
  const options = [
    ...peers.map(p => ({ id: p.id, name: p.name, detail: ` ${p.address}${p.blocked ? ' · blocked' : ''}` })),
    ...group.members.filter(m => !known.has(m.id)),
  ];
  return (
    <form className="form" noValidate onSubmit={e => { e.preventDefault(); save.mutate(); }}>
      <TargetPicker legend="Peers" peers={options} value={{ groups: [], peers: picked }} onChange={v => setPicked(v.peers)} />
      <FormProblem error={save.error} fields={[]} />
      <div className="actions">
        <span className="muted">{picked.length} selected</span>
        <button className="btn" type="button" onClick={onDone}>Cancel</button>
        <button className="btn btn-primary" type="submit" disabled={save.isPending}>Save members</button>
      </div>
    </form>
  );
}

function DeleteGroup({ group, onDone }: { group: GroupView; onDone: () => void }) {
  const client = useQueryClient();
  const del = useMutation({
    mutationFn: () => segmentation.deleteGroup(group.networkId, group.id),
    onSuccess: () => { invalidateSegmentation(client, group.networkId); onDone(); },
  });
  return (
    <div className="form">
      <p>Delete the group <strong>{group.name}</strong>? Its {group.members.length} peers stay; policies and routes that name the group no longer do.</p>
      <ErrorNote error={del.error} />
      <div className="actions">
        <button className="btn" type="button" onClick={onDone}>Cancel</button>
        <button className="btn btn-danger" type="button" onClick={() => del.mutate()} disabled={del.isPending}>Delete {group.name}</button>
      </div>
    </div>
  );
}
