import { useCallback } from 'react';
import { useParams } from 'react-router';
import { isStatus } from '../lib/api';
import { useReachability } from '../lib/segmentation';
import { ErrorNote, Loading } from '../components/ui';
import { TopologyGraph } from '../components/TopologyGraph';
import { NetworkTabs, useNetwork, usePeers, usePresence } from './NetworkDetail';

export default function Topology() {
  const { networkId = '' } = useParams();
  const network = useNetwork(networkId);
  const peers = usePeers(networkId);
  const presence = usePresence(networkId);
  const reach = useReachability(networkId);
  const data = presence.data;
  const online = useCallback((id: string) => !!data?.find(p => p.peerId === id)?.online, [data]);
  // A server without segmentation (404) has no policy: every tunnel is drawn, as before.
  const noPolicy = isStatus(reach.error, 404);
  return (
    <section>
      <NetworkTabs network={network.data} current="topology" />
      <ErrorNote error={network.error ?? peers.error ?? (noPolicy ? null : reach.error)} />
      {reach.data && (
        <p className="muted" data-testid="reachability-note">
          Links show what policy allows (default {reach.data.defaultPolicy}): {reach.data.total} allowed {reach.data.total === 1 ? 'direction' : 'directions'} between peers.
          {reach.data.truncated && ' The server sent only part of them, so some links may be missing.'}
        </p>
      )}
      {peers.isPending || (reach.isPending && !noPolicy) ? <Loading what="Loading peers" /> : peers.data && (
        peers.data.length === 0
          ? <p className="muted">No peers yet.</p>
          : <TopologyGraph peers={peers.data} online={online} pairs={reach.data?.pairs} label={`Topology of ${network.data?.name ?? 'the network'}`} />
      )}
    </section>
  );
}
