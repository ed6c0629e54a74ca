using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events;
using Wirety.Events.Segmentation;
using Wirety.Events.Tokens;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;
using Wolverine.Marten;

namespace Wirety.Server.Policies;

using Events = Wolverine.Marten.Events;

public static class DeletePolicy
{
    public static ProblemDetails Validate(Network? network, Guid networkId, Guid policyId) =>
        network?.FindPolicy(policyId) is null ? PolicyLookup.Missing(network, networkId, policyId) : ApiProblems.None;

    public static PolicyDeleted Decide(Network network, Guid policyId, Actor actor, DateTimeOffset now) => new(network.Id, policyId, actor, now);

    [RequiresRole(ApiTokenRole.Admin)]
    [WolverineDelete("/api/v1/networks/{networkId}/policies/{policyId}")]
    public static (IResult, Events) Delete(
        Guid policyId, [WriteAggregate(Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] Network network,
        ClaimsPrincipal user, TimeProvider clock) =>
        (Results.NoContent(), [Decide(network, policyId, user.ToActor(), clock.GetUtcNow())]);
}
