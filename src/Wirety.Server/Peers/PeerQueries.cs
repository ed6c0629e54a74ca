using Marten;
using Wirety.Projections.Networks;
using Wirety.Server.Networks;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Peers;

public static class PeerLookup
{
    public static Decision<PeerState> Find(Network? network, Guid networkId, Guid peerId) =>
        network is null ? NetworkLookup.Missing(networkId)
        : network.FindPeer(peerId) is { } peer ? peer
        : Rejection.NotFound($"There is no peer {peerId} in network '{network.Name}'.");
}

public static class PeerQueries
{
    [WolverineGet("/api/v1/networks/{networkId}/peers")]
    public static async Task<IResult> List(Guid networkId, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<Network>(networkId, ct) is { } network
            ? Results.Ok(network.Peers.Select(p => PeerView.Of(networkId, p)).ToList())
            : NetworkLookup.Missing(networkId).ToResult();

    [WolverineGet("/api/v1/networks/{networkId}/peers/{peerId}")]
    public static async Task<IResult> Get(Guid networkId, Guid peerId, IQuerySession session, CancellationToken ct)
    {
        var found = PeerLookup.Find(await session.LoadAsync<Network>(networkId, ct), networkId, peerId);
        return found.Rejected?.ToResult() ?? Results.Ok(PeerView.Of(networkId, found.Value!));
    }
}
