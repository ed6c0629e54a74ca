using Marten;
using Wirety.Events.Tokens;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Networks;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.LiveChannel;

/// <summary>
/// <paramref name="LastSeen"/>: the last heartbeat or agent socket open/close seen by this instance (null: none
/// since it started). <paramref name="Online"/> is what the live channel last announced for the peer.
/// </summary>
public sealed record PeerPresenceView(Guid PeerId, bool Online, DateTimeOffset? LastSeen);

public static class GetPresence
{
    /// <summary>Every peer of the network, in creation order (static peers have no agent and are never online).</summary>
    [RequiresRole(ApiTokenRole.Viewer)]
    [WolverineGet("/api/v1/networks/{networkId}/presence")]
    public static async Task<IResult> Get(Guid networkId, IQuerySession session, PeerPresence presence, CancellationToken ct)
    {
        if (await session.LoadAsync<Network>(networkId, ct) is not { } network) return NetworkLookup.Missing(networkId).ToResult();
        return Results.Ok(network.Peers.Select(p => presence.Of(p.Id) is { } status
            ? new PeerPresenceView(p.Id, status.Online, status.LastSeen)
            : new PeerPresenceView(p.Id, false, null)).ToList());
    }
}
