using Marten;
using Wirety.Events.Tokens;
using Wirety.Projections.Incidents;
using Wirety.Server.Auth;
using Wirety.Server.Groups;
using Wirety.Server.Policies;
using Wirety.Server.Routes;
using Wirety.Server.Networks;
using Wirety.Server.Peers;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.History;

/// <summary>Which point a historical answer is as of: the last event folded in, and its time (or the time asked for).</summary>
public sealed record HistoryAt(long Sequence, DateTimeOffset? Timestamp);

public sealed record NetworkStateView(
    HistoryAt At, NetworkView Network, IReadOnlyList<PeerView> Peers, IpamView Ipam, IReadOnlyList<Guid> Blocked,
    IReadOnlyList<Incident> OpenIncidents, IReadOnlyList<GroupView> Groups, IReadOnlyList<PolicyView> Policies, IReadOnlyList<RouteView> Routes);

/// <summary>
/// <c>GET /api/v1/networks/{id}/state?at=</c>: the network (with its default policy), its peers, IPAM, ACL
/// (blocked peers), open incidents, groups, policies and routes as they were at a point, replayed from the events up to it (<see cref="Projections.History.NetworkReplay"/>).
/// </summary>
public static class GetNetworkState
{
    [RequiresRole(ApiTokenRole.Viewer)]
    [WolverineGet("/api/v1/networks/{networkId}/state")]
    public static async Task<IResult> Get(Guid networkId, string? at, HttpContext http, IQuerySession session, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        if (!HistoryPoint.TryParse(at, "at", errors, out var point)) return errors.ToProblem().ToResult();

        var load = await NetworkHistory.LoadBoundedAsync(http, session, networkId, withRejections: false, ct);
        if (load.Refused is { } refused) return refused;
        var history = load.History!;
        if (!history.Exists) return NetworkLookup.Missing(networkId).ToResult();
        var sequence = point.Resolve(history.All);
        var state = history.AsOf(sequence);
        if (state.Network is not { } network)
            return ApiProblems.NotFound($"Network {networkId} did not exist at {point} (it was created later, or already deleted).").ToResult();

        return Results.Ok(new NetworkStateView(
            new HistoryAt(state.Sequence, point.Time ?? state.At),
            NetworkView.Of(network),
            network.Peers.Select(p => PeerView.Of(network, p)).ToList(),
            NetworkQueries.IpamOf(network),
            network.Peers.Where(p => p.Blocked).Select(p => p.Id).ToList(),
            state.Incidents.Where(i => i.State == IncidentState.Open).ToList(),
            network.Groups.Select(g => GroupView.Of(network, g)).ToList(),
            network.Policies.Select(p => PolicyView.Of(network, p)).ToList(),
            network.Routes.Select(r => RouteView.Of(network, r)).ToList()));
    }
}
