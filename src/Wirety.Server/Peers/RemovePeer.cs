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
        (Results.NoContent(), [new PeerRemoved(network.Id, peerId, user.ToActor(), clock.GetUtcNow())]);
}
