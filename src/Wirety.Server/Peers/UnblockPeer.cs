using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
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
        : request?.Reason is { Length: > BlockPeer.MaxReasonLength }
            ? new ValidationErrors().Add("reason", $"reason must be at most {BlockPeer.MaxReasonLength} characters.").ToProblem()
        : ApiProblems.None;

    [RequiresRole(ApiTokenRole.Admin)]
    [WolverinePost("/api/v1/networks/{networkId}/peers/{peerId}/unblock")]
    public static (IResult, Events) Post(
        [FromBody] BlockPeerRequest? request, [WriteAggregate(Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] Network network,
        [NotBody] PeerState peer, ClaimsPrincipal user, TimeProvider clock)
    {
        if (!peer.Blocked) return (Results.Ok(PeerView.Of(network, peer)), []);
        var unblocked = new PeerUnblocked(network.Id, peer.Id, request?.Reason?.Trim(), user.ToActor(), clock.GetUtcNow());
        return (Results.Ok(PeerView.After(network, peer, unblocked)), [unblocked]);
    }
}
