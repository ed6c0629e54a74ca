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

/// <summary>
/// <see cref="UnblockPeer"/> for up to <see cref="PeerSelection.MaxPeers"/> peers of one network in one request and one
/// append, all or nothing (<see cref="PeerSelection"/>); the reason is optional. A peer that is not blocked is a no-op.
/// Answers 200 with the peers as they are after the request, in its order.
/// </summary>
public static class UnblockPeers
{
    public static PeerSelection Load(BlockPeersRequest? request, Network? network, Guid networkId) =>
        request is null ? new(ApiProblems.MissingBody(), [])
        : PeerSelection.Of(request.PeerIds, network, networkId, new ValidationErrors().Check("reason", UnblockPeer.ReasonError(request.Reason)));

    public static ProblemDetails Validate(PeerSelection selection) => selection.Problem;

    [RequiresRole(ApiTokenRole.Admin)]
    [WolverinePost("/api/v1/networks/{networkId}/peers:unblock", TypeName = "POST_api_v1_networks_networkId_peers_unblock")]
    public static (IResult, Events) Post(
        BlockPeersRequest request, [WriteAggregate(Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] Network network,
        PeerSelection selection, ClaimsPrincipal user, TimeProvider clock)
    {
        var (actor, now) = (user.ToActor(), clock.GetUtcNow());
        var unblocked = selection.Peers.Select(p => UnblockPeer.Unblock(network, p, request.Reason, actor, now)).OfType<PeerUnblocked>().ToList();
        return (Results.Ok(PeerSelection.After(network, selection.Peers, unblocked)), [.. unblocked]);
    }
}
