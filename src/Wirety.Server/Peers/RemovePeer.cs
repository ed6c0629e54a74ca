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

/// <summary>Releases the address; the peer's enrollment token and sessions die with it.</summary>
public static class RemovePeer
{
    public static ProblemDetails Validate(Network? network, Guid networkId, Guid peerId) =>
        network?.FindPeer(peerId) is null ? PeerLookup.Missing(network, networkId, peerId) : ApiProblems.None;

    [RequiresRole(ApiTokenRole.Admin)]
    [WolverineDelete("/api/v1/networks/{networkId}/peers/{peerId}")]
    public static (IResult, Events) Delete(
        Guid peerId, [WriteAggregate(Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] Network network,
        ClaimsPrincipal user, TimeProvider clock) =>
        (Results.NoContent(), [Remove(network, peerId, user.ToActor(), clock.GetUtcNow())]);

    /// <summary>
    /// The removal of one peer (single and bulk). The one event is all of it: the network's fold drops the peer from its
    /// groups and policies and the routes through it (NetworkEvolution), the agent-access projection voids its token
    /// and sessions, and the public-key claim is released in the same commit (PublicKeyClaimRelease).
    /// </summary>
    public static PeerRemoved Remove(Network network, Guid peerId, Actor actor, DateTimeOffset at) => new(network.Id, peerId, actor, at);
}
