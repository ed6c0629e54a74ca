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

/// <summary>PATCH body: absent (null) fields stay as they are; <c>description: ""</c> clears it.</summary>
public sealed record UpdateGroupRequest(string? Name, string? Description);

/// <summary>Renames or re-describes a group; a request that changes nothing is a no-op.</summary>
public static class UpdateGroup
{
    public static GroupState? Load(Network? network, Guid groupId) => GroupLookup.Find(network, groupId);

    public static ProblemDetails Validate(UpdateGroupRequest? request, Network? network, GroupState? group, Guid networkId, Guid groupId)
    {
        if (request is null) return ApiProblems.MissingBody();
        if (network is null || group is null) return GroupLookup.Missing(network, networkId, groupId);
        var errors = new ValidationErrors()
            .Check("name", request.Name is null ? null : GroupRules.Name(request.Name))
            .Check("description", GroupRules.Description(request.Description));
        if (errors.Any) return errors.ToProblem();
        return GroupRules.NameTaken(network, request.Name ?? group.Name, group.Id) is { } taken ? ApiProblems.Conflict(taken) : ApiProblems.None;
    }

    [RequiresRole(ApiTokenRole.Admin)]
    [WolverinePatch("/api/v1/networks/{networkId}/groups/{groupId}")]
    public static (IResult, Events) Patch(
        UpdateGroupRequest request, [WriteAggregate(Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] Network network,
        [NotBody] GroupState group, ClaimsPrincipal user, TimeProvider clock)
    {
        var name = request.Name ?? group.Name;
        var description = request.Description is null ? group.Description : GroupRules.CanonicalDescription(request.Description);
        if (name == group.Name && description == group.Description) return (Results.Ok(GroupView.Of(network, group)), []);
        var updated = new GroupUpdated(network.Id, group.Id, name, description, user.ToActor(), clock.GetUtcNow());
        return (Results.Ok(GroupView.After(network, group.Id, updated)), [updated]);
    }
}
