using System.Security.Claims;
using Marten;
using Wirety.Events;
using Wirety.Events.Peers;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Peers;

public sealed record BlockPeerRequest(string? Reason);

/// <summary>
/// Admin containment (incident automation reuses the same events): a blocked peer drops out of every
/// config and its own lists no peers. Non-destructive and reversible; repeating either call is a no-op.
/// </summary>
public static class BlockPeer
{
    public const int MaxReasonLength = 500;

    public static Decision<PeerBlocked?> DecideBlock(BlockPeerRequest request, Network network, PeerState peer, Actor actor, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(request.Reason) || request.Reason.Length > MaxReasonLength)
            return new ValidationErrors().Add("reason", $"reason is required (at most {MaxReasonLength} characters).").ToRejection();
        return peer.Blocked ? new Decision<PeerBlocked?>(null, null) : new PeerBlocked(network.Id, peer.Id, request.Reason.Trim(), actor, now);
    }

    public static Decision<PeerUnblocked?> DecideUnblock(BlockPeerRequest request, Network network, PeerState peer, Actor actor, DateTimeOffset now)
    {
        if (request.Reason is { Length: > MaxReasonLength })
            return new ValidationErrors().Add("reason", $"reason must be at most {MaxReasonLength} characters.").ToRejection();
        return peer.Blocked ? new PeerUnblocked(network.Id, peer.Id, request.Reason?.Trim(), actor, now) : new Decision<PeerUnblocked?>(null, null);
    }

    [WolverinePost("/api/v1/networks/{networkId}/peers/{peerId}/block")]
    public static Task<IResult> Block(Guid networkId, Guid peerId, BlockPeerRequest? request, IDocumentSession session,
        ClaimsPrincipal user, TimeProvider clock, CancellationToken ct) =>
        request is null
            ? Task.FromResult(Rejection.MissingBody().ToResult())
            : Apply(networkId, peerId, session, ct, (n, p) => DecideBlock(request, n, p, user.ToActor(), clock.GetUtcNow()));

    /// <summary>The body (with an optional reason) may be omitted.</summary>
    [WolverinePost("/api/v1/networks/{networkId}/peers/{peerId}/unblock")]
    public static Task<IResult> Unblock(Guid networkId, Guid peerId, [Microsoft.AspNetCore.Mvc.FromBody] BlockPeerRequest? request,
        IDocumentSession session, ClaimsPrincipal user, TimeProvider clock, CancellationToken ct) =>
        Apply(networkId, peerId, session, ct,
            (n, p) => DecideUnblock(request ?? new BlockPeerRequest(null), n, p, user.ToActor(), clock.GetUtcNow()));

    private static async Task<IResult> Apply<TEvent>(Guid networkId, Guid peerId, IDocumentSession session,
        CancellationToken ct, Func<Network, PeerState, Decision<TEvent?>> decide) where TEvent : class
    {
        var stream = await session.Events.FetchForExclusiveWriting<Network>(networkId, ct);
        if (PeerLookup.Find(stream.Aggregate, networkId, peerId) is { Rejected: { } missing }) return missing.ToResult();
        var network = stream.Aggregate!;

        var decision = decide(network, network.FindPeer(peerId)!);
        if (decision.Rejected is { } rejected) return rejected.ToResult();
        if (decision.Value is { } change)
        {
            stream.AppendOne(change);
            await session.SaveChangesAsync(ct);
            network = NetworkEvolution.Evolve(network, change)!;
        }
        return Results.Ok(PeerView.Of(networkId, network.FindPeer(peerId)!));
    }
}
