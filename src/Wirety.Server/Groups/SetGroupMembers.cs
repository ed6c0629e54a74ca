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

/// <summary>The whole member set (<c>[]</c> empties the group).</summary>
public sealed record SetGroupMembersRequest(IReadOnlyList<Guid>? PeerIds);

/// <summary>Replaces a group's members (set semantics: order and repeats do not matter); the same set again is a no-op.</summary>
public static class SetGroupMembers
{
    public static GroupState? Load(Network? network, Guid groupId) => GroupLookup.Find(network, groupId);

    public static ProblemDetails Validate(SetGroupMembersRequest? request, Network? network, GroupState? group, Guid networkId, Guid groupId)
    {
        if (request is null) return ApiProblems.MissingBody();
        if (network is null || group is null) return GroupLookup.Missing(network, networkId, groupId);
        var errors = new ValidationErrors();
        if (request.PeerIds is null) errors.Add("peerIds", "peerIds is required: the ids of every member ([] for none).");
        else errors.Check("peerIds", GroupRules.UnknownPeers(network, request.PeerIds) is { } unknown ? "peerIds names ids that are " + unknown : null);
        return errors.Any ? errors.ToProblem() : ApiProblems.None;
    }

    [RequiresRole(ApiTokenRole.Admin)]
    [WolverinePut("/api/v1/networks/{networkId}/groups/{groupId}/members")]
    public static (IResult, Events) Put(
        SetGroupMembersRequest request, [WriteAggregate(Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] Network network,
        [NotBody] GroupState group, ClaimsPrincipal user, TimeProvider clock)
    {
        var members = GroupRules.Canonical(request.PeerIds);
        if (members.SequenceEqual(group.Members)) return (Results.Ok(GroupView.Of(network, group)), []);
        var set = new GroupMembersSet(network.Id, group.Id, members, user.ToActor(), clock.GetUtcNow());
        return (Results.Ok(GroupView.After(network, group.Id, set)), [set]);
    }
}
