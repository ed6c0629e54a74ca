using System.Security.Claims;
using Marten;
using Wirety.Events.Tokens;
using Wirety.Projections.Tokens;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Tokens;

public sealed record IssueApiTokenRequest(string? Name, string? Role, DateTimeOffset? ExpiresAt);

/// <summary>A token as listed: never its value or hash.</summary>
public sealed record ApiTokenView(
    Guid Id, string Name, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt,
    bool Bootstrap, string CreatedBy, ApiTokenRole Role)
{
    public static ApiTokenView Of(ApiToken t) => new(t.Id, t.Name, t.CreatedAt, t.ExpiresAt, t.RevokedAt, t.Bootstrap, t.CreatedBy.Name, t.Role);
}

/// <summary>The one response that carries the token value.</summary>
public sealed record IssuedApiToken(Guid Id, string Name, ApiTokenRole Role, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, string Token);

public static class IssueApiToken
{
    public static ValidationErrors Validate(IssueApiTokenRequest request, DateTimeOffset now) => new ValidationErrors()
        .Check("name", string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 64
            ? "name is required and must be at most 64 characters." : null)
        .Check("role", ParseRole(request.Role) is null ? "role is required: admin, analyst or viewer." : null)
        .Check("expiresAt", request.ExpiresAt is { } e && e <= now ? "expiresAt must be in the future." : null);

    /// <summary>Exactly the lower-case names of the contract; anything else is refused, never guessed.</summary>
    public static ApiTokenRole? ParseRole(string? role) => role switch
    {
        "admin" => ApiTokenRole.Admin,
        "analyst" => ApiTokenRole.Analyst,
        "viewer" => ApiTokenRole.Viewer,
        _ => null,
    };

    [WolverinePost("/api/v1/tokens")]
    public static async Task<IResult> Post(IssueApiTokenRequest? request, IDocumentSession session, ClaimsPrincipal user, TimeProvider clock)
    {
        if (request is null) return Rejection.MissingBody().ToResult();
        var now = clock.GetUtcNow();
        if (Validate(request, now) is { Any: true } errors) return errors.ToRejection().ToResult();

        var id = Guid.CreateVersion7(now);
        var value = TokenSecrets.New(TokenSecrets.ApiTokenPrefix);
        var name = request.Name!.Trim();
        var role = ParseRole(request.Role)!.Value;
        session.Events.StartStream<ApiToken>(id,
            new ApiTokenIssued(id, name, TokenSecrets.Hash(value), request.ExpiresAt, false, user.ToActor(), now, role));
        await session.SaveChangesAsync();
        return Results.Created($"/api/v1/tokens/{id}", new IssuedApiToken(id, name, role, now, request.ExpiresAt, value));
    }
}

public static class ListApiTokens
{
    [WolverineGet("/api/v1/tokens")]
    public static async Task<IReadOnlyList<ApiTokenView>> Get(IQuerySession session, CancellationToken ct) =>
        (await session.Query<ApiToken>().OrderBy(t => t.CreatedAt).ToListAsync(ct)).Select(ApiTokenView.Of).ToList();
}

public static class RevokeApiToken
{
    [WolverineDelete("/api/v1/tokens/{tokenId}")]
    public static async Task<IResult> Delete(Guid tokenId, IDocumentSession session, ClaimsPrincipal user, TimeProvider clock)
    {
        var stream = await session.Events.FetchForExclusiveWriting<ApiToken>(tokenId);
        if (stream.Aggregate is not { } token) return Rejection.NotFound($"There is no API token {tokenId}.").ToResult();
        if (token.RevokedAt is not null) return Results.NoContent(); // already revoked: nothing to do

        var now = clock.GetUtcNow();
        var othersUsable = await session.Query<ApiToken>()
            .Where(t => t.Id != tokenId && t.RevokedAt == null)
            .ToListAsync();
        if (!othersUsable.Any(t => t.IsUsableAt(now)))
            return Rejection.Conflict("This is the last usable API token; issue another one before revoking it.").ToResult();

        stream.AppendOne(new ApiTokenRevoked(tokenId, user.ToActor(), now));
        // The commit evicts the token from the credential cache of every instance (Changes/ChangeFeed).
        await session.SaveChangesAsync();
        return Results.NoContent();
    }
}
