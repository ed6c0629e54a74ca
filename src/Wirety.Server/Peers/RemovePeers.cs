using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;
using Wolverine.Marten;

namespace Wirety.Server.Peers;

using Events = Wolverine.Marten.Events;
using Wirety.Events.Tokens;

public sealed record RemovePeersRequest(IReadOnlyList<Guid>? PeerIds);

public sealed record PeersRemoved(int Deleted);

/// <summary>
/// <see cref="RemovePeer"/> for up to <see cref="PeerSelection.MaxPeers"/> peers of one network in one request and one
/// append, all or nothing (<see cref="PeerSelection"/>): each peer goes exactly as a single delete takes it (addresses
/// released, tokens and sessions revoked, key claims released, routes through it removed). Answers 200 <c>{"deleted": n}</c>.
/// </summary>
public static class RemovePeers
{
    public static PeerSelection Load(RemovePeersRequest? request, Network? network, Guid networkId) =>
        request is null ? new(ApiProblems.MissingBody(), []) : PeerSelection.Of(request.PeerIds, network, networkId, new ValidationErrors());

    public static ProblemDetails Validate(PeerSelection selection) => selection.Problem;

    [RequiresRole(ApiTokenRole.Admin)]
    [WolverinePost("/api/v1/networks/{networkId}/peers:delete", TypeName = "POST_api_v1_networks_networkId_peers_delete")]
    public static (IResult, Events) Post(
        RemovePeersRequest request, [WriteAggregate(Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] Network network,
        PeerSelection selection, ClaimsPrincipal user, TimeProvider clock)
    {
        var (actor, now) = (user.ToActor(), clock.GetUtcNow());
        return (Results.Ok(new PeersRemoved(selection.Peers.Count)), [.. selection.Peers.Select(p => RemovePeer.Remove(network, p.Id, actor, now))]);
    }
}
