using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events.Segmentation;
using Wirety.Events.Tokens;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Networks;
using Wirety.Server.Problems;
using Wolverine.Http;
using Wolverine.Marten;

namespace Wirety.Server.Groups;

using Events = Wolverine.Marten.Events;

public sealed record CreateGroupRequest(string? Name, string? Description);

/// <summary>A named set of peers, empty at first (<see cref="SetGroupMembers"/>); names are unique in the network, case aside.</summary>
public static class CreateGroup
{
    public static ProblemDetails Validate(CreateGroupRequest? request, Network? network, Guid networkId)
    {
        if (request is null) return ApiProblems.MissingBody();
        if (network is null) return NetworkLookup.Missing(networkId);
        var errors = new ValidationErrors()
            .Check("name", GroupRules.Name(request.Name))
            .Check("description", GroupRules.Description(request.Description));
        if (errors.Any) return errors.ToProblem();
        return GroupRules.NameTaken(network, request.Name!, null) is { } taken ? ApiProblems.Conflict(taken) : ApiProblems.None;
    }

    [RequiresRole(ApiTokenRole.Admin)]
    [WolverinePost("/api/v1/networks/{networkId}/groups")]
    public static (IResult, Events) Post(
        CreateGroupRequest request, [WriteAggregate(Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] Network network,
        ClaimsPrincipal user, TimeProvider clock)
    {
        var now = clock.GetUtcNow();
        var created = new GroupCreated(network.Id, Guid.CreateVersion7(now), request.Name!, GroupRules.CanonicalDescription(request.Description),
            user.ToActor(), now);
        return (Results.Created($"/api/v1/networks/{network.Id}/groups/{created.GroupId}", GroupView.After(network, created.GroupId, created)),
            [created]);
    }
}
