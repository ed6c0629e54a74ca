using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events.Addressing;
using Wirety.Events.Segmentation;
using Wirety.Events.Tokens;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Groups;
using Wirety.Server.Networks;
using Wirety.Server.Problems;
using Wolverine.Http;
using Wolverine.Marten;

namespace Wirety.Server.Routes;

using Events = Wolverine.Marten.Events;

/// <summary><c>via</c>: the peer the subnet is behind; <c>groups</c>: who it is offered to (absent or empty: every peer).</summary>
public sealed record AddRouteRequest(string? Cidr, Guid? Via, IReadOnlyList<Guid>? Groups);

/// <summary>
/// A subnet reachable through a peer, offered to groups (subject to policy: a peer uses it only where it may
/// reach the via peer). The subnet may not overlap the network's range nor cover a peer's endpoint or the
/// server (<see cref="RouteRules.Covers"/>). <c>0.0.0.0/0</c> makes the via peer an exit node: allowed through
/// a non-jump peer only, and exempt from the cover rules (it covers everything by definition; agents keep the
/// server and the endpoints outside the tunnel).
/// </summary>
public static class AddRoute
{
    /// <summary>The server addresses this request must not route away.</summary>
    public static ProtectedAddresses Before(HttpContext http, ServerAddresses server) => server.For(http);

    public static ProblemDetails Validate(AddRouteRequest? request, Network? network, Guid networkId, ProtectedAddresses protectedAddresses)
    {
        if (request is null) return ApiProblems.MissingBody();
        if (network is null) return NetworkLookup.Missing(networkId);
        var errors = new ValidationErrors();
        Ipv4Cidr cidr = default;
        if (request.Cidr is null) errors.Add("cidr", "cidr is required: an IPv4 prefix such as 192.168.10.0/24, or 0.0.0.0/0 for an exit node.");
        else if (!Ipv4Cidr.TryParse(request.Cidr, out cidr, out var cidrError)) errors.Add("cidr", cidrError);
        var via = request.Via is { } viaId ? network.FindPeer(viaId) : null;
        if (request.Via is null) errors.Add("via", "via is required: the id of the peer the subnet is behind.");
        else if (via is null) errors.Add("via", $"via {request.Via} is not a peer of network '{network.Name}'.");
        errors.Check("groups", GroupRules.UnknownGroups(network, request.Groups ?? []) is { } unknown ? "groups names ids that are " + unknown : null);
        if (errors.Any) return errors.ToProblem();

        if (cidr.Prefix.IsDefault)
            errors.Check("via", RouteRules.ExitVia(via!));
        else
            errors.Check("cidr", RouteRules.Covers(cidr.Prefix, network, protectedAddresses));
        if (errors.Any) return errors.ToProblem();

        var text = cidr.ToString();
        return network.Routes.FirstOrDefault(r => r.Cidr == text && r.ViaPeerId == via!.Id) is { } same
            ? ApiProblems.Conflict($"Network '{network.Name}' already routes {text} via peer '{via!.Name}' (route {same.Id}).")
            : ApiProblems.None;
    }

    [RequiresRole(ApiTokenRole.Admin)]
    [WolverinePost("/api/v1/networks/{networkId}/routes")]
    public static (IResult, Events) Post(
        AddRouteRequest request, [WriteAggregate(Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] Network network,
        ClaimsPrincipal user, TimeProvider clock)
    {
        var now = clock.GetUtcNow();
        var added = new RouteAdded(network.Id, Guid.CreateVersion7(now), Ipv4Cidr.Parse(request.Cidr!).ToString(), request.Via!.Value,
            GroupRules.Canonical(request.Groups), user.ToActor(), now);
        var after = NetworkEvolution.Evolve(network, added)!;
        return (Results.Created($"/api/v1/networks/{network.Id}/routes/{added.RouteId}", RouteView.Of(after, after.FindRoute(added.RouteId)!)),
            [added]);
    }
}
