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

public sealed record BlockPeerRequest(string? Reason);

/// <summary>
/// Admin containment (incident automation reuses the same events): a blocked peer drops out of every
/// config and its own lists no peers. Non-destructive and reversible (<see cref="UnblockPeer"/>);
/// blocking a blocked peer is a no-op.
/// </summary>
public static class BlockPeer
{
    public const int MaxReasonLength = 500;

    public static PeerState? Load(Network? network, Guid peerId) => PeerLookup.Find(network, peerId);

    public static ProblemDetails Validate(BlockPeerRequest? request, Network? network, PeerState? peer, Guid networkId, Guid peerId) =>
        request is null ? ApiProblems.MissingBody()
        : peer is null ? PeerLookup.Missing(network, networkId, peerId)
        : ReasonError(request.Reason) is { } error ? new ValidationErrors().Add("reason", error).ToProblem()
        : ApiProblems.None;

    public static string? ReasonError(string? reason) => string.IsNullOrWhiteSpace(reason) || reason.Length > MaxReasonLength
        ? $"reason is required (at most {MaxReasonLength} characters)."
        : null;

    /// <summary>The block of one peer (single and bulk); null when it is blocked already (a no-op).</summary>
    public static PeerBlocked? Block(Network network, PeerState peer, string reason, Actor actor, DateTimeOffset at) =>
        peer.Blocked ? null : new PeerBlocked(network.Id, peer.Id, reason.Trim(), actor, at);

    [RequiresRole(ApiTokenRole.Admin)]
    [WolverinePost("/api/v1/networks/{networkId}/peers/{peerId}/block")]
    public static (IResult, Events) Post(
        BlockPeerRequest request, [WriteAggregate(Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] Network network,
        [NotBody] PeerState peer, ClaimsPrincipal user, TimeProvider clock)
    {
        if (Block(network, peer, request.Reason!, user.ToActor(), clock.GetUtcNow()) is not { } blocked)
            return (Results.Ok(PeerView.Of(network, peer)), []);
        return (Results.Ok(PeerView.After(network, peer, blocked)), [blocked]);
    }
}
