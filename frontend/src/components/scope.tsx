// A role's scope: every network, or a list of them (API tokens and users share it).
import { useQuery } from '@tanstack/react-query';
import { api, keys, type NetworkView } from '../lib/api';

export function useNetworkList() {
  return useQuery({ queryKey: keys.networks, queryFn: () => api<NetworkView[]>('/api/v1/networks') });
}

/** The networks a role is limited to, by name ("all networks" for none); an id no longer listed shows as deleted. */
export function ScopeText({ networkIds }: { networkIds: string[] | null | undefined }) {
  const networks = useNetworkList();
  if (!networkIds) return <span className="muted">all networks</span>;
  if (networkIds.length === 0) return <span className="muted">no network</span>;
  const names = new Map((networks.data ?? []).map(n => [n.id, n.name]));
  return <>{networkIds.map(id => names.get(id) ?? (networks.data ? 'a deleted network' : id.slice(0, 8))).join(', ')}</>;
}

/** Checkboxes of the networks; none checked = every network. */
export function NetworkPicker({ legend, value, onChange }: { legend: string; value: string[]; onChange: (ids: string[]) => void }) {
  const networks = useNetworkList();
  return (
    <fieldset className="checks scroll">
      <legend>{legend}</legend>
      <small className="muted">None checked: every network, including those created later.</small>
      {networks.data?.length === 0 && <span className="muted">No networks yet.</span>}
      {networks.data?.map(n => (
        <label key={n.id}>
          <input type="checkbox" checked={value.includes(n.id)}
            onChange={e => onChange(e.target.checked ? [...value, n.id] : value.filter(id => id !== n.id))} />
          {n.name}
        </label>
      ))}
    </fieldset>
  );
}
