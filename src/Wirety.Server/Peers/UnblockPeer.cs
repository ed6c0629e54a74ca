using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events;
using Wirety.Events.Peers;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;
using Wolverine.Marten;

namespace Wirety.Server.Peers;

using Events = Wolverine.Marten.Events;
using Wirety.Events.Tokens;

/// <summary>Undoes <see cref="BlockPeer"/>; unblocking a peer that is not blocked is a no-op. The body (an optional reason) may be omitted.</summary>
public static class UnblockPeer
{
    public static PeerState? Load(Network? network, Guid peerId) => PeerLookup.Find(network, peerId);

    public static ProblemDetails Validate(BlockPeerRequest? request, Network? network, PeerState? peer, Guid networkId, Guid peerId) =>
        peer is null ? PeerLookup.Missing(network, networkId, peerId)
        : ReasonError(request?.Reason) is { } error ? new ValidationErrors().Add("reason", error).ToProblem()
        : ApiProblems.None;

    /// <summary>The reason is optional here.</summary>
    public static string? ReasonError(string? reason) => reason is { Length: > BlockPeer.MaxReasonLength }
        ? $"reason must be at most {BlockPeer.MaxReasonLength} characters."
        : null;

    /// <summary>The unblock of one peer (single and bulk); null when it is not blocked (a no-op).</summary>
    public static PeerUnblocked? Unblock(Network network, PeerState peer, string? reason, Actor actor, DateTimeOffset at) =>
        peer.Blocked ? new PeerUnblocked(network.Id, peer.Id, reason?.Trim(), actor, at) : null;

    [RequiresRole(ApiTokenRole.Admin)]
    [WolverinePost("/api/v1/networks/{networkId}/peers/{peerId}/unblock")]
    public static (IResult, Events) Post(
        [FromBody] BlockPeerRequest? request, [WriteAggregate(Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] Network network,
        [NotBody] PeerState peer, ClaimsPrincipal user, TimeProvider clock)
    {
        if (Unblock(network, peer, request?.Reason, user.ToActor(), clock.GetUtcNow()) is not { } unblocked)
            return (Results.Ok(PeerView.Of(network, peer)), []);
        return (Results.Ok(PeerView.After(network, peer, unblocked)), [unblocked]);
    }
}
