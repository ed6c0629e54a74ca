using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events;
using Wirety.Events.Segmentation;
using Wirety.Events.Tokens;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Groups;
using Wirety.Server.Networks;
using Wirety.Server.Problems;
using Wolverine.Http;
using Wolverine.Marten;

namespace Wirety.Server.Policies;

using Events = Wolverine.Marten.Events;

/// <summary><c>ports</c>: <c>tcp/22</c>, <c>tcp/8000-8100</c>, <c>udp/53</c>, <c>tcp</c>, <c>udp</c>, <c>icmp</c>; absent or empty = everything.</summary>
public sealed record CreatePolicyRequest(
    string? Name, string? Description, PolicyTargetsRequest? Sources, PolicyTargetsRequest? Destinations, IReadOnlyList<string>? Ports);

/// <summary>
/// An allow rule: sources may open connections to destinations on the ports. It matters under the
/// <c>deny</c> default policy (under <c>allow</c> everything is allowed anyway).
/// </summary>
public static class CreatePolicy
{
    public static ProblemDetails Validate(CreatePolicyRequest? request, Network? network, Guid networkId)
    {
        if (request is null) return ApiProblems.MissingBody();
        if (network is null) return NetworkLookup.Missing(networkId);
        var errors = new ValidationErrors()
            .Check("name", GroupRules.Name(request.Name))
            .Check("description", GroupRules.Description(request.Description))
            .Check("sources", PolicyRules.Targets("sources", request.Sources, network))
            .Check("destinations", PolicyRules.Targets("destinations", request.Destinations, network))
            .Check("ports", PolicyRules.Ports(request.Ports));
        if (errors.Any) return errors.ToProblem();
        return PolicyRules.NameTaken(network, request.Name!, null) is { } taken ? ApiProblems.Conflict(taken) : ApiProblems.None;
    }

    /// <summary>The event a validated request appends (shared with the what-if preview, which supplies its own ids).</summary>
    public static PolicyCreated Decide(CreatePolicyRequest request, Network network, Guid policyId, Actor actor, DateTimeOffset now) =>
        new(network.Id, policyId, request.Name!, GroupRules.CanonicalDescription(request.Description),
            PolicyRules.Canonical(request.Sources!), PolicyRules.Canonical(request.Destinations!), PolicyRules.CanonicalPorts(request.Ports),
            actor, now);

    [RequiresRole(ApiTokenRole.Admin)]
    [WolverinePost("/api/v1/networks/{networkId}/policies")]
    public static (IResult, Events) Post(
        CreatePolicyRequest request, [WriteAggregate(Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] Network network,
        ClaimsPrincipal user, TimeProvider clock)
    {
        var now = clock.GetUtcNow();
        var created = Decide(request, network, Guid.CreateVersion7(now), user.ToActor(), now);
        return (Results.Created($"/api/v1/networks/{network.Id}/policies/{created.PolicyId}", PolicyView.After(network, created.PolicyId, created)),
            [created]);
    }
}
