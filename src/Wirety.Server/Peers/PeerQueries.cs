using Marten;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events.Tokens;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Networks;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Peers;

public static class PeerLookup
{
    /// <summary>The 404 for a peer that is not there: its network is missing, or the network has no such peer.</summary>
    public static ProblemDetails Missing(Network? network, Guid networkId, Guid peerId) =>
        network is null
            ? NetworkLookup.Missing(networkId)
            : ApiProblems.NotFound($"There is no peer {peerId} in network '{network.Name}'.");

    /// <summary>
    /// The peer a command is about, for Wolverine to hand to <c>Validate</c> and the handler (the endpoints
    /// that need it name this as their <c>Load</c> step).
    /// </summary>
    public static PeerState? Find(Network? network, Guid peerId) => network?.FindPeer(peerId);
}

public static class PeerQueries
{
    [RequiresRole(ApiTokenRole.Viewer)]
    [WolverineGet("/api/v1/networks/{networkId}/peers")]
    public static async Task<IResult> List(Guid networkId, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<Network>(networkId, ct) is { } network
            ? Results.Ok(network.Peers.Select(p => PeerView.Of(network, p)).ToList())
            : NetworkLookup.Missing(networkId).ToResult();

    [RequiresRole(ApiTokenRole.Viewer)]
    [WolverineGet("/api/v1/networks/{networkId}/peers/{peerId}")]
    public static async Task<IResult> Get(Guid networkId, Guid peerId, IQuerySession session, CancellationToken ct)
    {
        var network = await session.LoadAsync<Network>(networkId, ct);
        return network?.FindPeer(peerId) is { } peer
            ? Results.Ok(PeerView.Of(network, peer))
            : PeerLookup.Missing(network, networkId, peerId).ToResult();
    }
}
