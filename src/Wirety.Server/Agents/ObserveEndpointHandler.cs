using Marten;
using Wirety.Events.Peers;
using Wirety.Projections.Networks;

namespace Wirety.Server.Agents;

/// <summary>
/// Records a peer's new endpoint on the network stream (which re-renders the configs that dial it).
/// Runs off the heartbeat's request path; ignores heartbeats from a session that is no longer the
/// peer's current one, and repeats of what is already recorded.
/// </summary>
public static class ObserveEndpointHandler
{
    public static EndpointChanged? Decide(ObserveEndpoint message, Network? network) =>
        network?.FindPeer(message.PeerId) is { } peer && peer.SessionId == message.SessionId && peer.ObservedEndpoint != message.Endpoint
            ? new EndpointChanged(network.Id, peer.Id, message.Endpoint, peer.ObservedEndpoint, message.SessionId, message.At)
            : null;

    public static async Task Handle(ObserveEndpoint message, IDocumentSession session, CancellationToken ct)
    {
        var stream = await session.Events.FetchForExclusiveWriting<Network>(message.NetworkId, ct);
        if (Decide(message, stream.Aggregate) is not { } changed) return;
        stream.AppendOne(changed);
        await session.SaveChangesAsync(ct);
    }
}
