import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, keys, type Role, type UserPatch, type UserView } from '../lib/api';
import { ago, useNow, when } from '../lib/format';
import { Badge, ErrorNote, Field, FormProblem, Loading, Modal } from '../components/ui';
import { NetworkPicker, ScopeText } from '../components/scope';

/** How many users have each e-mail (lower-cased): the same e-mail at another issuer or subject is another person. */
export function emailCounts(users: Pick<UserView, 'email'>[]) {
  const counts = new Map<string, number>();
  for (const u of users) if (u.email) counts.set(u.email.toLowerCase(), (counts.get(u.email.toLowerCase()) ?? 0) + 1);
  return counts;
}

const updateUser = (id: string, patch: UserPatch) => api<UserView>(`/api/v1/users/${id}`, { method: 'PATCH', body: patch });

/** People who signed in with SSO (global admins): their roles, scopes and whether they may sign in. */
export default function Users() {
  const client = useQueryClient();
  const now = useNow();
  const users = useQuery({ queryKey: keys.users, queryFn: () => api<UserView[]>('/api/v1/users') });
  const [editing, setEditing] = useState<UserView | null>(null);
  const toggle = useMutation({
    mutationFn: (u: UserView) => updateUser(u.id, { disabled: !u.disabled }),
    onSettled: () => client.invalidateQueries({ queryKey: keys.users }),
  });
  const shared = emailCounts(users.data ?? []);
  return (
    <section aria-labelledby="users-title">
      <h1 id="users-title">Users</h1>
      <p className="muted">
        People are known by their identity provider (issuer) and subject, never by e-mail. Someone new gets no role until
        an admin grants one here.
      </p>
      <ErrorNote error={users.error} />
      <ErrorNote error={toggle.error} title="Disable or enable" />
      {users.isPending ? <Loading what="Loading users" /> : (
        <div className="table-wrap">
          <table className="users">
            <thead>
              <tr>
                <th scope="col">Name</th><th scope="col">E-mail</th><th scope="col">Issuer</th><th scope="col">Subject</th>
                <th scope="col">Role</th><th scope="col">Networks</th><th scope="col">Status</th><th scope="col">Last sign-in</th>
                <th scope="col"><span className="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {users.data?.length === 0 && <tr><td colSpan={9} className="muted">Nobody has signed in with SSO yet.</td></tr>}
              {users.data?.map(u => {
                const same = u.email ? shared.get(u.email.toLowerCase()) ?? 0 : 0;
                return (
                  <tr key={u.id} data-user={u.name} className={u.disabled ? 'row-blocked' : undefined}>
                    <th scope="row">{u.name}</th>
                    <td>
                      {u.email ?? <span className="muted">—</span>}
                      {same > 1 && <small className="block field-error" data-testid="email-shared">{same} users share this e-mail</small>}
                    </td>
                    <td><code>{u.issuer}</code></td>
                    <td><code>{u.subject}</code></td>
                    <td data-testid="role">{u.role ? <Badge tone={u.role === 'admin' ? 'warn' : 'info'}>{u.role}</Badge> : <span className="muted">none</span>}</td>
                    <td data-testid="scope">{u.role ? <ScopeText networkIds={u.networkIds} /> : <span className="muted">—</span>}</td>
                    <td data-testid="status">{u.disabled ? <Badge tone="bad">disabled</Badge> : <Badge tone="ok">active</Badge>}</td>
                    <td title={when(u.lastSignInAt)}>{ago(u.lastSignInAt, now)}</td>
                    <td className="row-actions">
                      <button className="btn btn-small" type="button" onClick={() => setEditing(u)} aria-label={`Role of ${u.name}`}>Role…</button>
                      <button className={`btn btn-small${u.disabled ? '' : ' btn-danger-ghost'}`} type="button" disabled={toggle.isPending}
                        onClick={() => toggle.mutate(u)} aria-label={`${u.disabled ? 'Enable' : 'Disable'} ${u.name}`}>
                        {u.disabled ? 'Enable' : 'Disable'}
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <Modal title={editing ? `Role of ${editing.name}` : ''} open={!!editing} onClose={() => setEditing(null)}>
        {editing && <RoleForm user={editing} onDone={() => setEditing(null)} />}
      </Modal>
    </section>
  );
}

function RoleForm({ user, onDone }: { user: UserView; onDone: () => void }) {
  const client = useQueryClient();
  const [role, setRole] = useState<Role | 'none'>(user.role ?? 'none');
  const [networkIds, setNetworkIds] = useState<string[]>(user.networkIds ?? []);
  const save = useMutation({
    // The grant is replaced by exactly this role and scope; "none" revokes it.
    mutationFn: () => updateUser(user.id, role === 'none' ? { role } : { role, networkIds: networkIds.length ? networkIds : null }),
    onSuccess: () => { void client.invalidateQueries({ queryKey: keys.users }); onDone(); },
  });
  const err = save.error;
  return (
    <form className="form" noValidate onSubmit={e => { e.preventDefault(); save.mutate(); }}>
      <p className="muted">{user.name} — <code>{user.subject}</code> at <code>{user.issuer}</code></p>
      <FormProblem error={err} fields={['role', 'networkIds']} />
      <Field label="Role" name="role" error={err}>
        {p => (
          <select {...p} value={role} onChange={e => setRole(e.target.value as Role | 'none')} autoFocus>
            <option value="none">none — may not see anything</option>
            <option value="viewer">viewer — reads networks, peers and incidents</option>
            <option value="analyst">analyst — also the event stream and history</option>
            <option value="admin">admin — changes everything in its networks</option>
          </select>
        )}
      </Field>
      {role !== 'none' && <NetworkPicker legend="Limit to networks" value={networkIds} onChange={setNetworkIds} />}
      <div className="actions"><button className="btn btn-primary" type="submit" disabled={save.isPending}>Save role</button></div>
    </form>
  );
}
