import { useCallback, useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, apiText, isStatus, keys, qs, type NetworkState, type TimelineItem, type TimelinePage } from '../lib/api';
import { useSession } from '../lib/session';
import { Badge, ErrorNote, Loading } from '../components/ui';
import { TopologyGraph } from '../components/TopologyGraph';
import { actorName, summaryOf, when } from '../lib/format';
import { NetworkTabs, useNetwork } from './NetworkDetail';
import { useReachability } from '../lib/segmentation';


const PAGE = 500; // the server's maximum timeline page
const MAX_ITEMS = 20_000;

async function fetchTimeline(networkId: string): Promise<TimelineItem[]> {
  const items: TimelineItem[] = [];
  let after: number | null = null;
  do {
    const page: TimelinePage = await api<TimelinePage>(`/api/v1/networks/${networkId}/timeline${qs({ after, limit: PAGE })}`);
    items.push(...page.items);
    after = page.next;
  } while (after !== null && items.length < MAX_ITEMS);
  return items;
}

export default function History() {
  const { networkId = '' } = useParams();
  const network = useNetwork(networkId);
  const timeline = useQuery({ queryKey: keys.timeline(networkId), queryFn: () => fetchTimeline(networkId) });
  const items = timeline.data ?? [];
  // null: follow the newest point; a number: the index the user picked.
  const [picked, setPicked] = useState<number | null>(null);
  const index = picked ?? Math.max(items.length - 1, 0);
  const point = items[index];
  const state = useQuery({
    queryKey: ['state', networkId, point?.sequence],
    queryFn: () => api<NetworkState>(`/api/v1/networks/${networkId}/state?at=${point!.sequence}`),
    enabled: !!point,
    placeholderData: keepPreviousData,
  });
  // Who could reach whom at that point, so the graph then shows only what policy allowed then.
  // By sequence, like state?at=: two events may share a timestamp.
  const reach = useReachability(networkId, point ? String(point.sequence) : undefined, !!point);
  const pairs = isStatus(reach.error, 404) ? undefined : reach.data?.pairs;

  if (isStatus(timeline.error, 403)) return <section><NetworkTabs network={network.data} current="history" /><p role="alert">Your role may not read the timeline.</p></section>;
  const s = state.data;
  return (
    <section>
      <NetworkTabs network={network.data} current="history" />
      <ErrorNote error={network.error ?? timeline.error} />
      {timeline.isPending ? <Loading what="Loading the timeline" /> : items.length > 0 && (
        <>
          <div className="card slider-card">
            <label htmlFor="history-slider"><strong>Replay</strong> — point {index + 1} of {items.length}{picked === null ? ' (now)' : ''}</label>
            <input id="history-slider" type="range" min={0} max={items.length - 1} step={1} value={index}
              onChange={e => setPicked(Number(e.target.value) === items.length - 1 ? null : Number(e.target.value))}
              aria-valuetext={point ? `${when(point.timestamp)}: ${summaryOf(point)}` : undefined} />
            {point && (
              <p className="slider-point" data-testid="history-point">
                <time dateTime={point.timestamp}>{when(point.timestamp)}</time> · #{point.sequence} · {summaryOf(point)}
              </p>
            )}
            <div className="actions">
              <button type="button" className="btn btn-small" onClick={() => setPicked(Math.max(index - 1, 0))} disabled={index === 0}>◀ Earlier</button>
              <button type="button" className="btn btn-small" onClick={() => setPicked(index + 1 >= items.length - 1 ? null : index + 1)} disabled={picked === null}>Later ▶</button>
              <button type="button" className="btn btn-small" onClick={() => setPicked(null)} disabled={picked === null}>Now</button>
            </div>
          </div>
          <ErrorNote error={state.error} title="State at this point" />
          {s && (
            <div className="history-grid" data-testid="history-state" aria-busy={state.isFetching}>
              <div>
                <h2>Peers then <small className="muted">({s.peers.length}, {s.blocked.length} blocked, {s.openIncidents.length} open incidents)</small></h2>
                <div className="table-wrap">
                  <table>
                    <thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Address</th><th scope="col">ACL</th></tr></thead>
                    <tbody>
                      {s.peers.length === 0 && <tr><td colSpan={4} className="muted">No peers at this point.</td></tr>}
                      {s.peers.map(p => (
                        <tr key={p.id} data-peer={p.name}>
                          <th scope="row">{p.name}</th><td>{p.kind}</td><td><code>{p.address}</code></td>
                          <td>{s.blocked.includes(p.id) || p.blocked ? <Badge tone="bad">blocked</Badge> : <Badge tone="ok">allowed</Badge>}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </div>
              <div>
                <h2>Topology then{reach.data && <small className="muted"> (default {reach.data.defaultPolicy})</small>}</h2>
                {s.peers.length ? <TopologyGraph peers={s.peers} pairs={pairs} label="Topology at this point" /> : <p className="muted">Empty.</p>}
              </div>
            </div>
          )}
          <ConfigDiff networkId={networkId} items={items} defaultTo={index} peers={s?.peers ?? []} />
          <h2>Timeline</h2>
          <ol className="timeline timeline-pick" aria-label="Timeline">
            {items.map((it, i) => (
              <li key={it.sequence} className={i === index ? 'current' : undefined}>
                <button type="button" className="link" onClick={() => setPicked(i === items.length - 1 ? null : i)} aria-current={i === index ? 'step' : undefined}>
                  <time dateTime={it.timestamp}>{when(it.timestamp)}</time>
                </button>
                <span>{summaryOf(it)}</span>
                <small className="muted">{it.type} · {actorName(it.actor)}</small>
              </li>
            ))}
          </ol>
        </>
      )}
      {timeline.data?.length === 0 && <p className="muted">No history yet.</p>}
      <p><Link to={`/networks/${networkId}`}>Back to the network</Link></p>
    </section>
  );
}

function ConfigDiff({ networkId, items, defaultTo, peers }: { networkId: string; items: TimelineItem[]; defaultTo: number; peers: NetworkState['peers'] }) {
  const { canWrite } = useSession();
  const [peerId, setPeerId] = useState('');
  const [from, setFrom] = useState(0);
  const [to, setTo] = useState(defaultTo);
  useEffect(() => setTo(defaultTo), [defaultTo]);
  const [result, setResult] = useState<{ text: string } | { error: unknown } | null>(null);
  const run = useCallback(async () => {
    setResult(null);
    try {
      const text = await apiText(`/api/v1/networks/${networkId}/peers/${peerId}/config/diff${qs({ from: items[from]?.sequence, to: items[to]?.sequence })}`, { accept: 'text/plain' });
      setResult({ text });
    } catch (error) {
      setResult({ error });
    }
  }, [networkId, peerId, from, to, items]);
  if (!canWrite) return null;
  const option = (it: TimelineItem, i: number) => <option key={it.sequence} value={i}>#{it.sequence} {when(it.timestamp)} — {summaryOf(it)}</option>;
  return (
    <form className="card form diff-form" onSubmit={e => { e.preventDefault(); void run(); }} aria-labelledby="diff-title">
      <h2 id="diff-title">Config diff</h2>
      <div className="row">
        <div className="field"><label htmlFor="diff-peer">Peer</label>
          <select id="diff-peer" value={peerId} onChange={e => setPeerId(e.target.value)} required>
            <option value="">Choose a peer…</option>
            {peers.map(p => <option key={p.id} value={p.id}>{p.name}</option>)}
          </select></div>
        <div className="field"><label htmlFor="diff-from">From</label><select id="diff-from" value={from} onChange={e => setFrom(Number(e.target.value))}>{items.map(option)}</select></div>
        <div className="field"><label htmlFor="diff-to">To</label><select id="diff-to" value={to} onChange={e => setTo(Number(e.target.value))}>{items.map(option)}</select></div>
      </div>
      <div className="actions"><button className="btn" type="submit" disabled={!peerId}>Show diff</button></div>
      {result && 'error' in result && <ErrorNote error={result.error} />}
      {result && 'text' in result && (result.text === ''
        ? <p className="muted" role="status">The config is the same at both points.</p>
        : <pre className="code diff" data-testid="config-diff">{result.text.split('\n').map((line, i) => (
            <span key={i} className={line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : line.startsWith('@@') ? 'hunk' : undefined}>{line}{'\n'}</span>
          ))}</pre>)}
    </form>
  );
}
