import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, isStatus, keys, type NetworkSecurity, type NetworkSecurityRequest } from '../lib/api';
import { useSession } from '../lib/session';
import { ErrorNote, Field, FormProblem, Loading } from '../components/ui';
import { NetworkTabs, useNetwork } from './NetworkDetail';

// The server's limits (ChangeNetworkSecurity): windows 00:01:00 to 24:00:00, counts 1 to 1000. The server checks
// them again; the UI checks only the shapes a JSON body cannot carry (text in a count, a window that is no duration).
const FIELDS = ['enabled', 'sessionConflictWindow', 'sharedConfigFlips', 'sharedConfigWindow', 'maxEndpointChangesPerDay'];
const WINDOW = /^(\d+\.)?\d{2}:\d{2}:\d{2}$/;

interface Draft { enabled: boolean; sessionConflictWindow: string; sharedConfigFlips: string; sharedConfigWindow: string; maxEndpointChangesPerDay: string }
const draftOf = (s: NetworkSecurity): Draft => ({
  enabled: s.enabled, sessionConflictWindow: s.sessionConflictWindow, sharedConfigFlips: String(s.sharedConfigFlips),
  sharedConfigWindow: s.sharedConfigWindow, maxEndpointChangesPerDay: String(s.maxEndpointChangesPerDay),
});

/** The request for a draft, or a validation problem shaped like the server's (so the fields show it the same way). */
export function securityRequest(d: Draft): NetworkSecurityRequest | ApiError {
  const errors: Record<string, string[]> = {};
  const windowOf = (name: keyof Draft) => {
    const v = String(d[name]).trim();
    if (!WINDOW.test(v)) errors[name] = [`${name} must be a duration hh:mm:ss between 00:01:00 and 24:00:00.`];
    return v;
  };
  const countOf = (name: keyof Draft) => {
    const v = String(d[name]).trim();
    if (!/^\d{1,9}$/.test(v)) { errors[name] = [`${name} must be a whole number between 1 and 1000.`]; return 0; }
    return Number(v);
  };
  const request: NetworkSecurityRequest = {
    enabled: d.enabled,
    sessionConflictWindow: windowOf('sessionConflictWindow'),
    sharedConfigFlips: countOf('sharedConfigFlips'),
    sharedConfigWindow: windowOf('sharedConfigWindow'),
    maxEndpointChangesPerDay: countOf('maxEndpointChangesPerDay'),
  };
  return Object.keys(errors).length ? new ApiError(400, { status: 400, title: 'The request is invalid', detail: 'Some settings are not valid.', errors }) : request;
}

export function NetworkSecurityPage() {
  const { networkId = '' } = useParams();
  const { canWrite } = useSession();
  const client = useQueryClient();
  const network = useNetwork(networkId);
  const security = useQuery({ queryKey: keys.security(networkId), queryFn: () => api<NetworkSecurity>(`/api/v1/networks/${networkId}/security`) });
  const [draft, setDraft] = useState<Draft | null>(null);
  const [saved, setSaved] = useState(false);
  // The form starts from the server's values, and follows them while the user has not started editing.
  useEffect(() => { if (security.data && !draft) setDraft(draftOf(security.data)); }, [security.data, draft]);
  const save = useMutation({
    mutationFn: async (d: Draft) => {
      const request = securityRequest(d);
      if (request instanceof ApiError) throw request;
      return api<NetworkSecurity>(`/api/v1/networks/${networkId}/security`, { method: 'PUT', body: request });
    },
    onSuccess: s => {
      client.setQueryData(keys.security(networkId), s);
      setDraft(draftOf(s));
      setSaved(true);
    },
  });

  if (isStatus(network.error, 404)) return <p role="alert">This network does not exist (any more). <Link to="/networks">All networks</Link></p>;
  const err = save.error;
  const set = (k: keyof Draft) => (e: React.ChangeEvent<HTMLInputElement>) => {
    setSaved(false);
    setDraft(d => d && { ...d, [k]: k === 'enabled' ? e.target.checked : e.target.value });
  };
  return (
    <section>
      <NetworkTabs network={network.data} current="security" />
      <h2>Incident detection</h2>
      <p className="muted">
        Heartbeats are watched for signs of a stolen or shared config. A detection opens an incident and blocks the peer
        until an admin resolves it.
      </p>
      <ErrorNote error={security.error} />
      {!draft ? (security.isPending && <Loading what="Loading the settings" />) : (
        <form className="form card" noValidate aria-label="Incident detection settings" onSubmit={e => { e.preventDefault(); save.mutate(draft); }}>
          <fieldset disabled={!canWrite || save.isPending} className="plain">
            <FormProblem error={err} fields={FIELDS} />
            <label>
              <input type="checkbox" name="enabled" checked={draft.enabled} onChange={set('enabled')} />
              {' '}Detect incidents in this network
            </label>
            <Field label="Session conflict window" name="sessionConflictWindow" error={err}
              hint="hh:mm:ss, 00:01:00 to 24:00:00: one agent session heartbeating from two addresses within this window is a conflict.">
              {p => <input {...p} value={draft.sessionConflictWindow} onChange={set('sessionConflictWindow')} placeholder="00:05:00" />}
            </Field>
            <Field label="Endpoint flips (shared config)" name="sharedConfigFlips" error={err}
              hint="1 to 1000: this many flips of a peer's endpoint between addresses within the window below means a shared config.">
              {p => <input {...p} value={draft.sharedConfigFlips} onChange={set('sharedConfigFlips')} inputMode="numeric" />}
            </Field>
            <Field label="Shared config window" name="sharedConfigWindow" error={err} hint="hh:mm:ss, 00:01:00 to 24:00:00.">
              {p => <input {...p} value={draft.sharedConfigWindow} onChange={set('sharedConfigWindow')} placeholder="00:10:00" />}
            </Field>
            <Field label="Endpoint changes per day" name="maxEndpointChangesPerDay" error={err}
              hint="1 to 1000: more endpoint changes than this in a day is suspicious activity.">
              {p => <input {...p} value={draft.maxEndpointChangesPerDay} onChange={set('maxEndpointChangesPerDay')} inputMode="numeric" />}
            </Field>
          </fieldset>
          {canWrite ? (
            <div className="actions">
              <button className="btn btn-primary" type="submit" disabled={save.isPending}>Save settings</button>
              {saved && <span role="status" className="muted">Saved.</span>}
            </div>
          ) : <p className="muted">Only admins change these settings.</p>}
        </form>
      )}
    </section>
  );
}
