using System.Security.Claims;
using Marten;
using Wirety.Events.Peers;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Peers;

public static class RemovePeer
{
    /// <summary>Releases the address; the peer's enrollment token and (later) sessions die with it.</summary>
    [WolverineDelete("/api/v1/networks/{networkId}/peers/{peerId}")]
    public static async Task<IResult> Delete(
        Guid networkId, Guid peerId, IDocumentSession session, ClaimsPrincipal user, TimeProvider clock, CancellationToken ct)
    {
        var stream = await session.Events.FetchForExclusiveWriting<Network>(networkId, ct);
        if (PeerLookup.Find(stream.Aggregate, networkId, peerId) is { Rejected: { } missing }) return missing.ToResult();

        stream.AppendOne(new PeerRemoved(networkId, peerId, user.ToActor(), clock.GetUtcNow()));
        await session.SaveChangesAsync(ct);
        return Results.NoContent();
    }
}
