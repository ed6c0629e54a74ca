import { useCallback } from 'react';
import { useParams } from 'react-router';
import { ErrorNote, Loading } from '../components/ui';
import { TopologyGraph } from '../components/TopologyGraph';
import { NetworkTabs, useNetwork, usePeers, usePresence } from './NetworkDetail';

export default function Topology() {
  const { networkId = '' } = useParams();
  const network = useNetwork(networkId);
  const peers = usePeers(networkId);
  const presence = usePresence(networkId);
  const data = presence.data;
  const online = useCallback((id: string) => !!data?.find(p => p.peerId === id)?.online, [data]);
  return (
    <section>
      <NetworkTabs network={network.data} current="topology" />
      <ErrorNote error={network.error ?? peers.error} />
      {peers.isPending ? <Loading what="Loading peers" /> : peers.data && (
        peers.data.length === 0
          ? <p className="muted">No peers yet.</p>
          : <TopologyGraph peers={peers.data} online={online} label={`Topology of ${network.data?.name ?? 'the network'}`} />
      )}
    </section>
  );
}
