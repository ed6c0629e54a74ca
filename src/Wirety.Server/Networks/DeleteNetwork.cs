using System.Security.Claims;
using Marten;
using Wirety.Events;
using Wirety.Events.Networks;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Networks;

public static class DeleteNetwork
{
    public static Decision<NetworkDeleted> Decide(Network network, bool force, Actor actor, DateTimeOffset now) =>
        network.Peers.Count > 0 && !force
            ? Rejection.Conflict(
                $"Network '{network.Name}' still has {network.Peers.Count} peer(s); delete them first or pass ?force=true to delete the network with its peers.")
            : new NetworkDeleted(network.Id, network.Peers.Count > 0, actor, now);

    [WolverineDelete("/api/v1/networks/{networkId}")]
    public static async Task<IResult> Delete(
        Guid networkId, bool? force, IDocumentSession session, ClaimsPrincipal user, TimeProvider clock, CancellationToken ct)
    {
        var stream = await session.Events.FetchForExclusiveWriting<Network>(networkId, ct);
        if (stream.Aggregate is not { } network) return NetworkLookup.Missing(networkId).ToResult();

        var decision = Decide(network, force ?? false, user.ToActor(), clock.GetUtcNow());
        if (decision.Rejected is { } rejected) return rejected.ToResult();
        stream.AppendOne(decision.Value!);
        await session.SaveChangesAsync(ct);
        return Results.NoContent();
    }
}
