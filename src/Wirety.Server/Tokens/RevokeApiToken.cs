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
/// (Changes/ChangeFeed). Revoking a revoked token is a no-op; the last usable token cannot be revoked.
/// </summary>
public static class RevokeApiToken
{
    public static async Task<ProblemDetails> ValidateAsync(Guid tokenId, ApiToken? token, IDocumentSession session, TimeProvider clock)
    {
        if (token is null) return ApiProblems.NotFound($"There is no API token {tokenId}.");
        if (token.RevokedAt is not null) return ApiProblems.None;

        var now = clock.GetUtcNow();
        var othersUsable = await session.Query<ApiToken>()
            .Where(t => t.Id != tokenId && t.RevokedAt == null)
            .ToListAsync();
        return othersUsable.Any(t => t.IsUsableAt(now))
            ? ApiProblems.None
            : ApiProblems.Conflict("This is the last usable API token; issue another one before revoking it.");
    }

    [RequiresRole(ApiTokenRole.Admin)]
    [WolverineDelete("/api/v1/tokens/{tokenId}")]
    public static (IResult, Events) Delete(
        [WriteAggregate("tokenId", Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] ApiToken token, ClaimsPrincipal user, TimeProvider clock) =>
        token.RevokedAt is not null
            ? (Results.NoContent(), [])
            : (Results.NoContent(), [new ApiTokenRevoked(token.Id, user.ToActor(), clock.GetUtcNow())]);
}
