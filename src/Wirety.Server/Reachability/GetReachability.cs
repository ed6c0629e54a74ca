using Marten;
using Wirety.Events.Segmentation;
using Wirety.Events.Tokens;
using Wirety.Projections.Networks;
using Wirety.Projections.Segmentation;
using Wirety.Server.Auth;
using Wirety.Server.History;
using Wirety.Server.Networks;
using Wirety.Server.Peers;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Reachability;

/// <summary><c>total</c> counts every pair; <c>pairs</c> lists the first <see cref="GetReachability.MaxPairs"/> (then <c>truncated</c>).</summary>
public sealed record ReachabilityView(
    Guid NetworkId, DefaultPolicy DefaultPolicy, long Version, IReadOnlyList<PairView> Pairs, int Total, bool Truncated);

/// <summary>
/// <c>GET /api/v1/networks/{id}/reachability?at=&amp;peer=</c>: every ordered pair of peers where the first may open
/// connections to the second, and on what, as <see cref="AccessRules"/> evaluates the network's policies
/// (blocked and isolated peers included). <c>at</c> is a point in history, as for <c>state?at=</c>;
/// <c>peer</c> keeps the pairs that involve that peer.
/// </summary>
public static class GetReachability
{
    public const int MaxPairs = 1000;

    [RequiresRole(ApiTokenRole.Viewer)]
    [WolverineGet("/api/v1/networks/{networkId}/reachability")]
    public static async Task<IResult> Get(Guid networkId, HttpContext http, IQuerySession session, CancellationToken ct)
    {
        var query = http.Request.Query;
        var errors = new ValidationErrors();
        HistoryPoint.TryParse(query["at"].FirstOrDefault(), "at", errors, out var point);
        Guid? peerId = null;
        if (query["peer"].FirstOrDefault() is { Length: > 0 } peerText)
        {
            if (Guid.TryParse(peerText, out var parsed)) peerId = parsed;
            else errors.Add("peer", $"peer must be a peer id (a GUID); got '{peerText}'.");
        }
        if (point is null || errors.Any) return errors.ToProblem().ToResult();

        Network? network;
        if (point == HistoryPoint.Now)
        {
            network = await session.LoadAsync<Network>(networkId, ct);
            if (network is null) return NetworkLookup.Missing(networkId).ToResult();
        }
        else
        {
            var load = await NetworkHistory.LoadBoundedAsync(http, session, networkId, withRejections: false, ct);
            if (load.Refused is { } refused) return refused;
            var history = load.History!;
            if (!history.Exists) return NetworkLookup.Missing(networkId).ToResult();
            network = history.AsOf(point.Resolve(history.All)).Network;
            if (network is null)
                return ApiProblems.NotFound($"Network {networkId} did not exist at {point} (it was created later, or already deleted).").ToResult();
        }
        if (peerId is { } id && network.FindPeer(id) is null)
            return PeerLookup.Missing(network, networkId, id).ToResult();
        return Results.Ok(Of(network, peerId));
    }

    public static ReachabilityView Of(Network network, Guid? peerId)
    {
        var pairs = new List<PairView>();
        var total = 0;
        foreach (var (from, to, ports) in AccessRules.Of(network).Pairs(peerId))
        {
            if (total++ < MaxPairs) pairs.Add(PairView.Of(from, to, ports));
        }
        return new ReachabilityView(network.Id, network.DefaultPolicy, network.Version, pairs, total, total > MaxPairs);
    }
}
