using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events.Networks;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;
using Wolverine.Marten;

namespace Wirety.Server.Networks;

using Events = Wolverine.Marten.Events;
using Wirety.Events.Tokens;

/// <summary>Deleting a network with peers is refused unless forced (<c>?force=true</c>); its history stays.</summary>
public static class DeleteNetwork
{
    public static ProblemDetails Validate(Network? network, bool? force, Guid networkId) =>
        network is null ? NetworkLookup.Missing(networkId)
        : network.Peers.Count > 0 && force != true
            ? ApiProblems.Conflict(
                $"Network '{network.Name}' still has {network.Peers.Count} peer(s); delete them first or pass ?force=true to delete the network with its peers.")
        : ApiProblems.None;

    [RequiresRole(ApiTokenRole.Admin)]
    [WolverineDelete("/api/v1/networks/{networkId}")]
    public static (IResult, Events) Delete(
        [WriteAggregate(Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] Network network, ClaimsPrincipal user, TimeProvider clock) =>
        (Results.NoContent(), [new NetworkDeleted(network.Id, network.Peers.Count > 0, user.ToActor(), clock.GetUtcNow())]);
}
