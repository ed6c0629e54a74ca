import { useMemo } from 'react';
import { Background, Controls, Handle, Position, ReactFlow, type Edge, type Node, type NodeProps } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import type { PeerView } from '../lib/api';
import { layout, tunnels, type TopoNode } from '../lib/topology';

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
export function TopologyGraph({ peers, online, label }: { peers: PeerView[]; online?: (id: string) => boolean; label: string }) {
  const { nodes, edges } = useMemo(() => {
    const nodes: PeerNode[] = layout(peers, online ?? (() => false)).map(n => ({
      id: n.id, type: 'peer', position: { x: n.x, y: n.y }, data: { ...n, presence: !!online }, draggable: true, connectable: false,
      ariaLabel: `${n.name}, ${n.kind} peer ${n.address}, ${n.blocked ? 'blocked' : !online ? 'allowed' : n.online ? 'online' : 'offline'}`,
    }));
    const edges: Edge[] = tunnels(peers).map(t => ({
      id: t.id, source: t.source, target: t.target, type: 'straight',
      className: t.kind === 'mesh' ? 'topo-edge-mesh' : 'topo-edge-jump',
      animated: t.kind === 'mesh',
    }));
    return { nodes, edges };
  }, [peers, online]);
  return (
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
      </ul>
    </div>
  );
}
