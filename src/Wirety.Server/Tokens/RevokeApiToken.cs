using System.Security.Claims;
using Marten;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events.Tokens;
using Wirety.Projections.Tokens;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;
using Wolverine.Marten;

namespace Wirety.Server.Tokens;

using Events = Wolverine.Marten.Events;

/// <summary>
/// Revokes an API token; the commit evicts it from the credential cache of every instance
/// (Changes/ChangeFeed). Revoking a revoked token is a no-op. The last usable admin token cannot be revoked
/// (nobody could issue tokens any more — an admin limited to networks does not count, it cannot issue them; `wirety-server tokens issue-admin` is the way back if expiry gets there).
/// </summary>
public static class RevokeApiToken
{
    /// <summary>
    /// The transaction-scoped advisory lock every admin-token revocation takes before counting, so two
    /// revocations of the last two admin tokens (on any instances) cannot both see "one other is left".
    /// </summary>
    public const long AdminTokenGuardLock = 0x57495245_5459_0001; // "WIRETY" + 1

    public static async Task<ProblemDetails> ValidateAsync(Guid tokenId, ApiToken? token, IDocumentSession session, TimeProvider clock)
    {
        var ct = CancellationToken.None; // short statements; the generated handler passes no token here
        if (token is null) return ApiProblems.NotFound($"There is no API token {tokenId}.");
        if (token.RevokedAt is not null) return ApiProblems.None;
        var now = clock.GetUtcNow();
        // Revoking a non-admin, a network-limited admin (it cannot issue tokens) or an already expired token leaves
        // the number of usable admin tokens over every network as it was.
        if (token.Role != ApiTokenRole.Admin || token.NetworkIds is not null || !token.IsUsableAt(now)) return ApiProblems.None;

        // The session is in the transaction that holds the token's stream (exclusive load) and commits the
        // revocation; the advisory lock is held until then. Counting after taking it reads every revocation
        // committed before (read committed: each statement sees the latest commits).
        await session.BeginTransactionAsync(ct);
        await session.QueryAsync<int>("select 1 from pg_advisory_xact_lock(?)", ct, AdminTokenGuardLock);
        var otherAdmins = await session.Query<ApiToken>()
            .Where(t => t.Id != tokenId && t.RevokedAt == null && t.Role == ApiTokenRole.Admin)
            .ToListAsync(ct);
        return otherAdmins.Any(t => t.NetworkIds is null && t.IsUsableAt(now))
            ? ApiProblems.None
            : ApiProblems.Conflict("This is the last usable admin token; issue another admin token before revoking it.");
    }

    [RequiresRole(ApiTokenRole.Admin), Scoped(ScopeRule.EveryNetworkOnly)]
    [WolverineDelete("/api/v1/tokens/{tokenId}")]
    public static (IResult, Events) Delete(
        [WriteAggregate("tokenId", Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] ApiToken token, ClaimsPrincipal user, TimeProvider clock) =>
        token.RevokedAt is not null
            ? (Results.NoContent(), [])
            : (Results.NoContent(), [new ApiTokenRevoked(token.Id, user.ToActor(), clock.GetUtcNow())]);
}
