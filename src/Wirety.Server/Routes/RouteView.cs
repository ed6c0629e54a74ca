using Microsoft.AspNetCore.Mvc;
using Wirety.Projections.Networks;
using Wirety.Projections.Segmentation;
using Wirety.Server.Groups;
using Wirety.Server.Networks;
using Wirety.Server.Problems;

namespace Wirety.Server.Routes;

/// <summary><c>groups</c>: who the route is offered to (every peer when empty); <c>exitNode</c>: the route is <c>0.0.0.0/0</c>.</summary>
public sealed record RouteView(
    Guid Id, Guid NetworkId, string Cidr, NamedRef Via, IReadOnlyList<NamedRef> Groups, bool ExitNode, DateTimeOffset CreatedAt)
{
    public static RouteView Of(Network network, RouteState r) => new(
        r.Id, network.Id, r.Cidr, new NamedRef(r.ViaPeerId, network.FindPeer(r.ViaPeerId)?.Name ?? r.ViaPeerId.ToString()),
        GroupLookup.Groups(network, r.Groups), AccessRules.IsExit(r), r.CreatedAt);
}

public static class RouteLookup
{
    public static ProblemDetails Missing(Network? network, Guid networkId, Guid routeId) =>
        network is null
            ? NetworkLookup.Missing(networkId)
            : ApiProblems.NotFound($"There is no route {routeId} in network '{network.Name}'.");
}
