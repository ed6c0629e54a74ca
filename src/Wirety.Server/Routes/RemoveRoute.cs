using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events.Segmentation;
using Wirety.Events.Tokens;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;
using Wolverine.Marten;

namespace Wirety.Server.Routes;

using Events = Wolverine.Marten.Events;

public static class RemoveRoute
{
    public static ProblemDetails Validate(Network? network, Guid networkId, Guid routeId) =>
        network?.FindRoute(routeId) is null ? RouteLookup.Missing(network, networkId, routeId) : ApiProblems.None;

    [RequiresRole(ApiTokenRole.Admin)]
    [WolverineDelete("/api/v1/networks/{networkId}/routes/{routeId}")]
    public static (IResult, Events) Delete(
        Guid routeId, [WriteAggregate(Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] Network network,
        ClaimsPrincipal user, TimeProvider clock) =>
        (Results.NoContent(), [new RouteRemoved(network.Id, routeId, user.ToActor(), clock.GetUtcNow())]);
}
