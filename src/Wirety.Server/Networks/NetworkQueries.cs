using System.Security.Claims;
using JasperFx.Events;
using Marten;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events;
using Wirety.Events.Addressing;
using Wirety.Events.Tokens;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Networks;

public static class NetworkLookup
{
    public static ProblemDetails Missing(Guid networkId) => ApiProblems.NotFound($"There is no network {networkId}.");
}

public sealed record IpamAllocation(string Address, Guid PeerId, string PeerName);

public sealed record IpamView(string Cidr, long Total, long Used, long Free, IReadOnlyList<IpamAllocation> Allocations);

/// <summary>One event of a network's stream, as the audit list shows it.</summary>
public sealed record NetworkEventView(long Sequence, long Version, string Type, DateTimeOffset Timestamp, Actor? Actor, object Data);

public static class NetworkQueries
{
    /// <summary>Every network, or only the caller's when its role is limited to some.</summary>
    [RequiresRole(ApiTokenRole.Viewer), Scoped(ScopeRule.FilteredByHandler)]
    [WolverineGet("/api/v1/networks")]
    public static async Task<IReadOnlyList<NetworkView>> List(ClaimsPrincipal user, IQuerySession session, CancellationToken ct)
    {
        var query = session.Query<Network>().AsQueryable();
        if (NetworkScope.NetworksOf(user) is { } scope)
        {
            var ids = scope.ToArray();
            query = query.Where(n => n.Id.IsOneOf(ids));
        }
        return (await query.OrderBy(n => n.CreatedAt).ToListAsync(ct)).Select(NetworkView.Of).ToList();
    }

    [RequiresRole(ApiTokenRole.Viewer)]
    [WolverineGet("/api/v1/networks/{networkId}")]
    public static async Task<IResult> Get(Guid networkId, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<Network>(networkId, ct) is { } network
            ? Results.Ok(NetworkView.Of(network))
            : NetworkLookup.Missing(networkId).ToResult();

    [RequiresRole(ApiTokenRole.Viewer)]
    [WolverineGet("/api/v1/networks/{networkId}/ipam")]
    public static async Task<IResult> Ipam(Guid networkId, IQuerySession session, CancellationToken ct)
    {
        if (await session.LoadAsync<Network>(networkId, ct) is not { } network) return NetworkLookup.Missing(networkId).ToResult();
        return Results.Ok(IpamOf(network));
    }

    public static IpamView IpamOf(Network network)
    {
        var capacity = NetworkView.CapacityOf(network);
        var allocations = network.Peers
            .OrderBy(p => IpAddresses.TryParseIPv4(p.Address, out var a) ? IpAddresses.ToUInt32(a) : 0)
            .Select(p => new IpamAllocation(p.Address, p.Id, p.Name)).ToList();
        return new IpamView(network.Cidr, capacity.Total, capacity.Used, capacity.Free, allocations);
    }

    /// <summary>The network's whole history, in order. Deleted networks keep theirs (it is the audit trail).</summary>
    [RequiresRole(ApiTokenRole.Analyst)]
    [WolverineGet("/api/v1/networks/{networkId}/events")]
    public static async Task<IResult> Events(Guid networkId, IQuerySession session, CancellationToken ct)
    {
        var events = await session.Events.FetchStreamAsync(networkId, token: ct);
        if (events.Count == 0) return NetworkLookup.Missing(networkId).ToResult();
        return Results.Ok(events.Select(View).ToList());
    }

    /// <remarks>The data is shown without hash fields (EventQueries/EventItem), like every history response.</remarks>
    public static NetworkEventView View(IEvent e) => new(
        e.Sequence, e.Version, e.Data.GetType().Name, e.Timestamp,
        e.Data.GetType().GetProperty(nameof(Actor))?.GetValue(e.Data) as Actor,
        EventQueries.EventItem.FromEvent(e.Sequence, e.StreamId, e.Data, e.Timestamp).Data!);
}
