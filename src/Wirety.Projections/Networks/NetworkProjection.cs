using JasperFx.Events;
using Marten.Events.Aggregation;
using Wirety.Events.Networks;
using Wirety.Events.Peers;

namespace Wirety.Projections.Networks;

/// <summary>
/// Inline snapshot of each network stream: the write model that commands decide against (loaded with
/// an exclusive stream lock, so IPAM and name checks are serialised per network) and the source of
/// the network and peer lists.
/// </summary>
public partial class NetworkProjection : SingleStreamProjection<Network, Guid>
{
    public NetworkProjection()
    {
        // Only network-stream events: without this allow-list every other stream in a commit (heartbeats)
        // would cost a snapshot lookup.
        foreach (var type in NetworkEvolution.EventTypes) IncludeType(type);
    }

    public override Network? Evolve(Network? snapshot, Guid id, IEvent e) => NetworkEvolution.Evolve(snapshot, e.Data);
}
