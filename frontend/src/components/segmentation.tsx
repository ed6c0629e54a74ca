// Pieces of the segmentation screens: port chips, the group/peer picker and the what-if diff.
import { useId, useState } from 'react';
import type { PolicyPreview, PolicyTargets, ReachPair, Ref } from '../lib/api';
import { parsePortRule, portsText } from '../lib/ports';

/**
 * Port rules as chips. The text being typed is the caller's (`text`), so a form can refuse to go on
 * while it holds an invalid rule; Enter, comma or the Add button turns it into a chip.
 */
export function PortChips({ ports, onChange, text, onText, error, onError }: {
  ports: string[]; onChange: (ports: string[]) => void;
  text: string; onText: (text: string) => void;
  error: string | null; onError: (error: string | null) => void;
}) {
  const id = useId();
  const add = () => {
    const entries = text.split(/[\s,]+/).filter(Boolean);
    if (!entries.length) return;
    const next = [...ports];
    for (const entry of entries) {
      const rule = parsePortRule(entry);
      if (!rule.ok) { onError(rule.error); return; }
      if (!next.includes(rule.text)) next.push(rule.text);
    }
    onChange(next);
    onText('');
    onError(null);
  };
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>Ports</label>
      {ports.length > 0 && (
        <ul className="chips" aria-label="Port rules">
          {ports.map(p => (
            <li key={p} className="chip">
              <code>{p}</code>
              <button type="button" className="btn btn-ghost btn-small" aria-label={`Remove ${p}`} onClick={() => onChange(ports.filter(x => x !== p))}>✕</button>
            </li>
          ))}
        </ul>
      )}
      <div className="chip-row">
        <input id={id} value={text} placeholder="tcp/22" autoComplete="off"
          aria-invalid={error ? true : undefined} aria-describedby={`${id}-hint${error ? ` ${id}-err` : ''}`}
          onChange={e => { onText(e.target.value); if (error) onError(null); }}
          onKeyDown={e => { if (e.key === 'Enter' || e.key === ',') { e.preventDefault(); add(); } }} />
        <button type="button" className="btn" onClick={add}>Add port</button>
      </div>
      <small id={`${id}-hint`} className="muted">
        {ports.length ? '' : 'None: every protocol and port. '}tcp/22, tcp/8000-8100, udp/53, tcp, udp or icmp.
      </small>
      {error && <small id={`${id}-err`} className="field-error" data-field-error="ports" role="alert">{error}</small>}
    </div>
  );
}

/** Picks groups and peers (or only peers, without `groups`) by checkbox, with a filter for long lists. */
export function TargetPicker({ legend, groups, peers, value, onChange, empty = 'No peers yet.' }: {
  legend: string; groups?: (Ref & { count?: number })[]; peers: (Ref & { detail?: string })[];
  value: PolicyTargets; onChange: (v: PolicyTargets) => void; empty?: string;
}) {
  const [filter, setFilter] = useState('');
  const filterId = useId();
  const match = (r: Ref) => r.name.toLowerCase().includes(filter.trim().toLowerCase());
  const toggle = (key: 'groups' | 'peers', id: string, on: boolean) =>
    onChange({ ...value, [key]: on ? [...value[key], id] : value[key].filter(x => x !== id) });
  const shown = (groups ?? []).length + peers.length;
  return (
    <fieldset className="picker">
      <legend>{legend}</legend>
      {shown > 8 && (
        <input id={filterId} type="search" value={filter} onChange={e => setFilter(e.target.value)} placeholder="Filter by name" aria-label={`Filter ${legend.toLowerCase()}`} />
      )}
      {groups && (
        <div role="group" aria-label={`${legend}: groups`}>
          <h3 aria-hidden="true">Groups</h3>
          <div className="picker-list">
            {groups.length === 0 && <span className="muted small">No groups yet.</span>}
            {groups.filter(g => match(g) || value.groups.includes(g.id)).map(g => (
              <label key={g.id}>
                <input type="checkbox" checked={value.groups.includes(g.id)} onChange={e => toggle('groups', g.id, e.target.checked)} />
                {g.name}{g.count !== undefined && <small className="muted">· {g.count} {g.count === 1 ? 'peer' : 'peers'}</small>}
              </label>
            ))}
          </div>
        </div>
      )}
      <div role="group" aria-label={groups ? `${legend}: peers` : legend}>
        {groups && <h3 aria-hidden="true">Peers</h3>}
        <div className="picker-list">
          {peers.length === 0 && <span className="muted small">{empty}</span>}
          {peers.filter(p => match(p) || value.peers.includes(p.id)).map(p => (
            <label key={p.id}>
              <input type="checkbox" checked={value.peers.includes(p.id)} onChange={e => toggle('peers', p.id, e.target.checked)} />
              {p.name}{p.detail && <small className="muted">{p.detail}</small>}
            </label>
          ))}
        </div>
      </div>
    </fieldset>
  );
}

export const pairText = (p: ReachPair) => `${p.from.name} → ${p.to.name}: ${portsText(p.ports)}`;

/** The what-if answer: which connections a change allows and forbids, and how many configs it touches. */
export function PreviewDiff({ preview }: { preview: PolicyPreview }) {
  const none = preview.gained.length === 0 && preview.lost.length === 0;
  const id = useId();
  return (
    <div className="preview" data-testid="policy-preview">
      <p role="status">
        {none ? 'No connection is gained or lost. ' : ''}
        <strong data-testid="configs-changed">{preview.configsChanged}</strong> peer {preview.configsChanged === 1 ? 'config changes' : 'configs change'}.
      </p>
      {!none && (
        <div className="diff-lists">
          <section aria-labelledby={`${id}-gained`}>
            <h3 id={`${id}-gained`} className="gained">Gained ({preview.gained.length})</h3>
            {preview.gained.length === 0 ? <p className="muted small">None.</p> : (
              <ul aria-label="Gained connections">{preview.gained.map(p => <li key={`${p.from.id}>${p.to.id}`}>{pairText(p)}</li>)}</ul>
            )}
          </section>
          <section aria-labelledby={`${id}-lost`}>
            <h3 id={`${id}-lost`} className="lost">Lost ({preview.lost.length})</h3>
            {preview.lost.length === 0 ? <p className="muted small">None.</p> : (
              <ul aria-label="Lost connections">{preview.lost.map(p => <li key={`${p.from.id}>${p.to.id}`}>{pairText(p)}</li>)}</ul>
            )}
          </section>
        </div>
      )}
      {preview.truncated && <p className="alert alert-warn">The list is cut short: the change affects more pairs than shown.</p>}
    </div>
  );
}
