using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events.Segmentation;
using Wirety.Events.Tokens;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;
using Wolverine.Marten;

namespace Wirety.Server.Groups;

using Events = Wolverine.Marten.Events;

/// <summary>
/// Deletes a group; policies that named it no longer do. Refused while a route is offered to this group
/// alone: a route naming no groups is offered to every peer, so deleting its only group would widen it.
/// </summary>
public static class DeleteGroup
{
    public static ProblemDetails Validate(Network? network, Guid networkId, Guid groupId)
    {
        if (network?.FindGroup(groupId) is not { } group) return GroupLookup.Missing(network, networkId, groupId);
        var routes = network.Routes.Where(r => r.Groups is [var only] && only == groupId).ToList();
        return routes.Count == 0
            ? ApiProblems.None
            : ApiProblems.Conflict($"Group '{group.Name}' is the only group route(s) {string.Join(", ", routes.Select(r => $"{r.Cidr} ({r.Id})"))} "
                + "are offered to; without it they would be offered to every peer. Remove those routes first.");
    }

    [RequiresRole(ApiTokenRole.Admin)]
    [WolverineDelete("/api/v1/networks/{networkId}/groups/{groupId}")]
    public static (IResult, Events) Delete(
        Guid groupId, [WriteAggregate(Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] Network network,
        ClaimsPrincipal user, TimeProvider clock) =>
        (Results.NoContent(), [new GroupDeleted(network.Id, groupId, user.ToActor(), clock.GetUtcNow())]);
}
