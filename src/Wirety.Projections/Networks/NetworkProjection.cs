using JasperFx.Events;
using Marten.Events.Aggregation;

namespace Wirety.Projections.Networks;

/// <summary>
/// Inline snapshot of each network stream: the write model that commands decide against (loaded with
/// an exclusive stream lock, so IPAM and name checks are serialised per network) and the source of
/// the network and peer lists.
/// </summary>
public partial class NetworkProjection : SingleStreamProjection<Network, Guid>
{
    public override Network? Evolve(Network? snapshot, Guid id, IEvent e) => NetworkEvolution.Evolve(snapshot, e.Data);
}
