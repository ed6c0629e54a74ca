import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, keys, type ApiTokenView, type IssueApiTokenRequest, type IssuedApiToken, type Role } from '../lib/api';
import { localToIso, when } from '../lib/format';
import { Badge, CopyButton, ErrorNote, Field, FormProblem, Loading, Modal } from '../components/ui';
import { NetworkPicker, ScopeText } from '../components/scope';

const FIELDS = ['name', 'role', 'networkIds', 'expiresAt'];

type Dialog = { kind: 'create' } | { kind: 'issued'; token: IssuedApiToken } | { kind: 'revoke'; token: ApiTokenView } | null;

/** API tokens (global admins): issue with a role, a scope and an expiry, see the value once, revoke. */
export default function ApiTokens() {
  const tokens = useQuery({ queryKey: keys.tokens, queryFn: () => api<ApiTokenView[]>('/api/v1/tokens') });
  const [dialog, setDialog] = useState<Dialog>(null);
  const close = () => setDialog(null);
  return (
    <section aria-labelledby="tokens-title">
      <div className="page-head">
        <h1 id="tokens-title">API tokens</h1>
        <button className="btn btn-primary" type="button" onClick={() => setDialog({ kind: 'create' })}>New token</button>
      </div>
      <p className="muted">For scripts and automation, and to sign in without SSO. A token's value is shown once, when it is created; Wirety keeps only its hash.</p>
      <ErrorNote error={tokens.error} />
      {tokens.isPending ? <Loading what="Loading tokens" /> : (
        <div className="table-wrap">
          <table className="tokens">
            <thead>
              <tr>
                <th scope="col">Name</th><th scope="col">Role</th><th scope="col">Networks</th><th scope="col">Created</th>
                <th scope="col">Expires</th><th scope="col">Revoked</th><th scope="col">Created by</th>
                <th scope="col"><span className="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {tokens.data?.map(t => (
                <tr key={t.id} data-token={t.name} className={t.revokedAt ? 'row-blocked' : undefined}>
                  <th scope="row">{t.name}{t.bootstrap && <> <Badge tone="muted">bootstrap</Badge></>}</th>
                  <td><Badge tone={t.role === 'admin' ? 'warn' : 'info'}>{t.role}</Badge></td>
                  <td data-testid="scope"><ScopeText networkIds={t.networkIds} /></td>
                  <td>{when(t.createdAt)}</td>
                  <td>{t.expiresAt ? when(t.expiresAt) : <span className="muted">never</span>}</td>
                  <td data-testid="revoked">{t.revokedAt ? <Badge tone="bad">revoked {when(t.revokedAt)}</Badge> : <span className="muted">—</span>}</td>
                  <td>{t.createdBy}</td>
                  <td className="row-actions">
                    {!t.revokedAt && (
                      <button className="btn btn-small btn-danger-ghost" type="button" onClick={() => setDialog({ kind: 'revoke', token: t })} aria-label={`Revoke ${t.name}`}>Revoke</button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Modal title="New API token" open={dialog?.kind === 'create'} onClose={close}>
        <TokenForm onIssued={token => setDialog({ kind: 'issued', token })} />
      </Modal>
      <Modal title={dialog?.kind === 'issued' ? `Token ${dialog.token.name} created` : ''} open={dialog?.kind === 'issued'} onClose={close}>
        {dialog?.kind === 'issued' && <IssuedToken token={dialog.token} onDone={close} />}
      </Modal>
      <Modal title={dialog?.kind === 'revoke' ? `Revoke ${dialog.token.name}` : ''} open={dialog?.kind === 'revoke'} onClose={close}>
        {dialog?.kind === 'revoke' && <RevokeToken token={dialog.token} onDone={close} />}
      </Modal>
    </section>
  );
}

function TokenForm({ onIssued }: { onIssued: (t: IssuedApiToken) => void }) {
  const client = useQueryClient();
  const [d, setD] = useState({ name: '', role: 'viewer' as Role, networkIds: [] as string[], expiresAt: '' });
  const issue = useMutation({
    mutationFn: () => {
      // No networks checked: every network (the member is left out, as the contract reads an absent one).
      const body: IssueApiTokenRequest = {
        name: d.name, role: d.role,
        ...(d.networkIds.length ? { networkIds: d.networkIds } : {}),
        ...(d.expiresAt ? { expiresAt: localToIso(d.expiresAt) } : {}),
      };
      return api<IssuedApiToken>('/api/v1/tokens', { method: 'POST', body });
    },
    onSuccess: t => { void client.invalidateQueries({ queryKey: keys.tokens }); onIssued(t); },
  });
  const err = issue.error;
  return (
    <form className="form" noValidate onSubmit={e => { e.preventDefault(); issue.mutate(); }}>
      <FormProblem error={err} fields={FIELDS} />
      <Field label="Name" name="name" error={err} hint="What or who uses it, e.g. backup-script">
        {p => <input {...p} value={d.name} onChange={e => setD({ ...d, name: e.target.value })} required autoFocus maxLength={64} />}
      </Field>
      <Field label="Role" name="role" error={err}>
        {p => (
          <select {...p} value={d.role} onChange={e => setD({ ...d, role: e.target.value as Role })}>
            <option value="viewer">viewer — reads networks, peers and incidents</option>
            <option value="analyst">analyst — also the event stream and history</option>
            <option value="admin">admin — changes everything in its networks</option>
          </select>
        )}
      </Field>
      <NetworkPicker legend="Limit to networks" value={d.networkIds} onChange={networkIds => setD({ ...d, networkIds })} />
      <Field label="Expires" name="expiresAt" error={err} hint="Optional; the token works until revoked otherwise">
        {p => <input {...p} type="datetime-local" value={d.expiresAt} onChange={e => setD({ ...d, expiresAt: e.target.value })} />}
      </Field>
      <div className="actions"><button className="btn btn-primary" type="submit" disabled={issue.isPending}>Create token</button></div>
    </form>
  );
}

/** The token's value, shown once: nothing keeps it, so closing this loses it. */
function IssuedToken({ token, onDone }: { token: IssuedApiToken; onDone: () => void }) {
  return (
    <div className="secret">
      <p className="alert alert-warn">Copy the token now: it is shown <strong>only once</strong> and cannot be read again. Whoever holds it acts as <strong>{token.role}</strong>.</p>
      <div className="field">
        <label htmlFor="issued-token">Token value</label>
        <div className="copy-row">
          <input id="issued-token" readOnly value={token.token} onFocus={e => e.target.select()} data-testid="token-value" />
          <CopyButton text={token.token} label="Copy token" />
        </div>
      </div>
      <div className="actions"><button className="btn btn-primary" type="button" onClick={onDone}>Done</button></div>
    </div>
  );
}

function RevokeToken({ token, onDone }: { token: ApiTokenView; onDone: () => void }) {
  const client = useQueryClient();
  const revoke = useMutation({
    mutationFn: () => api(`/api/v1/tokens/${token.id}`, { method: 'DELETE' }),
    onSuccess: () => { void client.invalidateQueries({ queryKey: keys.tokens }); onDone(); },
  });
  return (
    <div className="form">
      <p>Revoke <strong>{token.name}</strong> ({token.role})? Whatever uses it is refused from now on. This cannot be undone.</p>
      <ErrorNote error={revoke.error} />
      <div className="actions">
        <button className="btn" type="button" onClick={onDone}>Cancel</button>
        <button className="btn btn-danger" type="button" onClick={() => revoke.mutate()} disabled={revoke.isPending}>Revoke {token.name}</button>
      </div>
    </div>
  );
}
