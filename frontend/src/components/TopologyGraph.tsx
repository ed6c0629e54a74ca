import { useMemo } from 'react';
import { Background, Controls, Handle, Position, ReactFlow, type Edge, type Node, type NodeProps } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import type { PeerView, ReachPair } from '../lib/api';
import { allowedLinks, layout, tunnels, type TopoEdge, type TopoNode } from '../lib/topology';
import { portsText } from '../lib/ports';

type PeerNode = Node<TopoNode & { presence: boolean }, 'peer'>;

function PeerBox({ data }: NodeProps<PeerNode>) {
  // Without presence (a replayed point in time) a node is only blocked or not.
  const state = data.blocked ? 'blocked' : data.kind === 'static' ? 'static' : !data.presence ? 'allowed' : data.online ? 'online' : 'offline';
  return (
    <div className={`topo-node topo-${data.kind} topo-${state}`} data-peer={data.name} data-state={state}>
      <Handle type="target" position={Position.Top} className="topo-handle" isConnectable={false} />
      <strong>{data.name}</strong>
      <small>{data.address}</small>
      <small className="topo-state">{data.kind === 'static' ? 'static config' : `${data.kind} · ${state}`}</small>
      <Handle type="source" position={Position.Bottom} className="topo-handle" isConnectable={false} />
    </div>
  );
}
const nodeTypes = { peer: PeerBox };

/** Peers and their tunnels: jump peers as hubs, direct mesh links dashed, blocked peers in red without tunnels. */
/** `online` undefined: presence is unknown (history), so nodes show only blocked or allowed. */
/** `pairs` (from the reachability endpoint): draw only the links policy allows; without it, every tunnel. */
export function TopologyGraph({ peers, online, label, pairs }: {
  peers: PeerView[]; online?: (id: string) => boolean; label: string; pairs?: ReachPair[];
}) {
  const { nodes, edges, links } = useMemo(() => {
    const nodes: PeerNode[] = layout(peers, online ?? (() => false)).map(n => ({
      id: n.id, type: 'peer', position: { x: n.x, y: n.y }, data: { ...n, presence: !!online }, draggable: true, connectable: false,
      ariaLabel: `${n.name}, ${n.kind} peer ${n.address}, ${n.blocked ? 'blocked' : !online ? 'allowed' : n.online ? 'online' : 'offline'}`,
    }));
    const names = new Map(peers.map(p => [p.id, p.name]));
    const links = pairs ? allowedLinks(peers, pairs) : tunnels(peers);
    const edges: Edge[] = links.map(t => ({
      id: t.id, source: t.source, target: t.target, type: 'straight',
      className: `topo-edge-${t.kind}`,
      animated: t.kind === 'mesh',
      ariaLabel: linkText(t, names),
      // A stable handle for tests and styling: the two peer names, sorted.
      domAttributes: { 'data-link': [names.get(t.source), names.get(t.target)].sort().join('~'), 'data-kind': t.kind } as Edge['domAttributes'],
    }));
    return { nodes, edges, links: links.map(t => ({ id: t.id, kind: t.kind, text: linkText(t, names) })) };
  }, [peers, online, pairs]);
  const peerLinks = links.filter(l => l.kind !== 'jump');
  return (
    <>
    <div className="topology" role="figure" aria-label={label}>
      <ReactFlow nodes={nodes} edges={edges} nodeTypes={nodeTypes} fitView fitViewOptions={{ padding: 0.2 }}
        proOptions={{ hideAttribution: true }} nodesConnectable={false} minZoom={0.2}>
        <Background gap={24} />
        <Controls showInteractive={false} />
      </ReactFlow>
      <ul className="legend" aria-label="Legend">
        <li><span className="swatch swatch-jump" /> jump peer (hub)</li>
        {online && <li><span className="swatch swatch-online" /> online</li>}
        {online && <li><span className="swatch swatch-offline" /> offline / not enrolled</li>}
        <li><span className="swatch swatch-blocked" /> blocked (no tunnels)</li>
        <li><span className="line line-jump" /> tunnel via jump</li>
        <li><span className="line line-mesh" /> direct mesh link</li>
        {pairs && <li><span className="line line-relay" /> allowed, relayed by the jump</li>}
      </ul>
    </div>
      {pairs && (
        // The graph as text: what a screen reader (and a test without layout) can read.
        <details className="links">
          <summary>{peerLinks.length} allowed {peerLinks.length === 1 ? 'link' : 'links'} between peers</summary>
          <ul aria-label="Allowed links">
            {peerLinks.map(l => <li key={l.id} data-kind={l.kind}>{l.text}</li>)}
          </ul>
        </details>
      )}
    </>
  );
}

function linkText(t: TopoEdge, names: Map<string, string>): string {
  const a = names.get(t.source) ?? t.source;
  const b = names.get(t.target) ?? t.target;
  if (t.kind === 'jump') return `${a} – ${b}: tunnel via jump`;
  const how = t.kind === 'mesh' ? 'direct' : 'relayed by the jump';
  const dirs = (t.directions ?? []).map(d => `${d.from.name} → ${d.to.name} (${portsText(d.ports)})`).join('; ');
  return `${a} – ${b}: ${how}${dirs ? `; ${dirs}` : ''}`;
}
