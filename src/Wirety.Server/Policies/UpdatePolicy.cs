using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events;
using Wirety.Events.Segmentation;
using Wirety.Events.Tokens;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Groups;
using Wirety.Server.Problems;
using Wolverine.Http;
using Wolverine.Marten;

namespace Wirety.Server.Policies;

using Events = Wolverine.Marten.Events;

/// <summary>
/// PATCH body: absent (null) fields stay as they are; <c>sources</c>/<c>destinations</c> replace that side
/// whole; <c>ports: []</c> means everything; <c>description: ""</c> clears it.
/// </summary>
public sealed record UpdatePolicyRequest(
    string? Name, string? Description, PolicyTargetsRequest? Sources, PolicyTargetsRequest? Destinations, IReadOnlyList<string>? Ports);

/// <summary>Changes a policy; a request that changes nothing is a no-op.</summary>
public static class UpdatePolicy
{
    public static PolicyState? Load(Network? network, Guid policyId) => PolicyLookup.Find(network, policyId);

    public static ProblemDetails Validate(UpdatePolicyRequest? request, Network? network, PolicyState? policy, Guid networkId, Guid policyId)
    {
        if (request is null) return ApiProblems.MissingBody();
        if (network is null || policy is null) return PolicyLookup.Missing(network, networkId, policyId);
        var errors = new ValidationErrors()
            .Check("name", request.Name is null ? null : GroupRules.Name(request.Name))
            .Check("description", GroupRules.Description(request.Description))
            .Check("sources", request.Sources is null ? null : PolicyRules.Targets("sources", request.Sources, network))
            .Check("destinations", request.Destinations is null ? null : PolicyRules.Targets("destinations", request.Destinations, network))
            .Check("ports", PolicyRules.Ports(request.Ports));
        if (errors.Any) return errors.ToProblem();
        return PolicyRules.NameTaken(network, request.Name ?? policy.Name, policy.Id) is { } taken ? ApiProblems.Conflict(taken) : ApiProblems.None;
    }

    /// <summary>The event a validated request appends; null when it changes nothing (shared with the what-if preview).</summary>
    public static PolicyUpdated? Decide(UpdatePolicyRequest request, Network network, PolicyState policy, Actor actor, DateTimeOffset now)
    {
        var name = request.Name ?? policy.Name;
        var description = request.Description is null ? policy.Description : GroupRules.CanonicalDescription(request.Description);
        var sources = request.Sources is null ? policy.Sources : PolicyRules.Canonical(request.Sources);
        var destinations = request.Destinations is null ? policy.Destinations : PolicyRules.Canonical(request.Destinations);
        var ports = request.Ports is null ? policy.Ports : PolicyRules.CanonicalPorts(request.Ports);
        if (name == policy.Name && description == policy.Description && Same(sources, policy.Sources) && Same(destinations, policy.Destinations)
            && ports.SequenceEqual(policy.Ports))
            return null;
        return new PolicyUpdated(network.Id, policy.Id, name, description, sources, destinations, ports, actor, now);
    }

    private static bool Same(PolicyTargets a, PolicyTargets b) => a.Groups.SequenceEqual(b.Groups) && a.Peers.SequenceEqual(b.Peers);

    [RequiresRole(ApiTokenRole.Admin)]
    [WolverinePatch("/api/v1/networks/{networkId}/policies/{policyId}")]
    public static (IResult, Events) Patch(
        UpdatePolicyRequest request, [WriteAggregate(Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] Network network,
        [NotBody] PolicyState policy, ClaimsPrincipal user, TimeProvider clock) =>
        Decide(request, network, policy, user.ToActor(), clock.GetUtcNow()) is { } updated
            ? (Results.Ok(PolicyView.After(network, policy.Id, updated)), [updated])
            : (Results.Ok(PolicyView.Of(network, policy)), []);
}
