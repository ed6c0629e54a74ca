using System.Security.Claims;
using Marten;
using Wirety.Events;
using Wirety.Events.Peers;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Peers;

public sealed record IssuedEnrollmentToken(Guid PeerId, string EnrollmentToken, DateTimeOffset EnrollmentTokenExpiresAt);

/// <summary>
/// One-time enrollment tokens for agent-managed peers. Only the hash is recorded; a new token voids the
/// peer's previous one, and enrolling with it replaces the peer's current agent session.
/// </summary>
public static class IssueEnrollmentToken
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    public static (string Value, EnrollmentTokenIssued Event) New(Guid networkId, Guid peerId, Actor actor, DateTimeOffset now)
    {
        var value = TokenSecrets.New(TokenSecrets.EnrollmentTokenPrefix);
        return (value, new EnrollmentTokenIssued(networkId, peerId, TokenSecrets.Hash(value), now + Lifetime, actor, now));
    }

    [WolverinePost("/api/v1/networks/{networkId}/peers/{peerId}/enrollment-token")]
    public static async Task<IResult> Post(
        Guid networkId, Guid peerId, IDocumentSession session, ClaimsPrincipal user, TimeProvider clock, CancellationToken ct)
    {
        var stream = await session.Events.FetchForExclusiveWriting<Network>(networkId, ct);
        var found = PeerLookup.Find(stream.Aggregate, networkId, peerId);
        if (found.Rejected is { } missing) return missing.ToResult();
        if (found.Value!.Kind == PeerKind.Static)
            return Rejection.Conflict("A static peer has no agent and cannot enroll; download its config at creation instead.").ToResult();

        var now = clock.GetUtcNow();
        var (value, issued) = New(networkId, peerId, user.ToActor(), now);
        stream.AppendOne(issued);
        await session.SaveChangesAsync(ct);
        return Results.Ok(new IssuedEnrollmentToken(peerId, value, issued.ExpiresAt));
    }
}
