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

public sealed record BlockPeersRequest(IReadOnlyList<Guid>? PeerIds, string? Reason);

/// <summary>
/// <see cref="BlockPeer"/> for up to <see cref="PeerSelection.MaxPeers"/> peers of one network in one request and one
/// append, all or nothing (<see cref="PeerSelection"/>). A peer already blocked is a no-op, as for one peer. Answers
/// 200 with the peers as they are after the request, in its order.
/// </summary>
public static class BlockPeers
{
    public static PeerSelection Load(BlockPeersRequest? request, Network? network, Guid networkId) =>
        request is null ? new(ApiProblems.MissingBody(), [])
        : PeerSelection.Of(request.PeerIds, network, networkId, new ValidationErrors().Check("reason", BlockPeer.ReasonError(request.Reason)));

    public static ProblemDetails Validate(PeerSelection selection) => selection.Problem;

    [RequiresRole(ApiTokenRole.Admin)]
    [WolverinePost("/api/v1/networks/{networkId}/peers:block", TypeName = "POST_api_v1_networks_networkId_peers_block")]
    public static (IResult, Events) Post(
        BlockPeersRequest request, [WriteAggregate(Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] Network network,
        PeerSelection selection, ClaimsPrincipal user, TimeProvider clock)
    {
        var (actor, now) = (user.ToActor(), clock.GetUtcNow());
        var blocked = selection.Peers.Select(p => BlockPeer.Block(network, p, request.Reason!, actor, now)).OfType<PeerBlocked>().ToList();
        return (Results.Ok(PeerSelection.After(network, selection.Peers, blocked)), [.. blocked]);
    }
}
