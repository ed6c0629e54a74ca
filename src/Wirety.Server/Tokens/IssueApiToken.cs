using System.Security.Claims;
using Marten;
using Microsoft.AspNetCore.Mvc;
using Wirety.Server.Networks;
using Wirety.Events.Tokens;
using Wirety.Projections.Tokens;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;
using Wolverine.Marten;

namespace Wirety.Server.Tokens;

/// <param name="NetworkIds">The networks the role is limited to; absent or null for every network.</param>
public sealed record IssueApiTokenRequest(string? Name, string? Role, DateTimeOffset? ExpiresAt, IReadOnlyList<Guid>? NetworkIds = null);

/// <summary>The one response that carries the token value.</summary>
public sealed record IssuedApiToken(
    Guid Id, string Name, ApiTokenRole Role, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, string Token, IReadOnlyList<Guid>? NetworkIds);

/// <summary>A new API token with a role; only its SHA-256 hash is recorded.</summary>
public static class IssueApiToken
{
    public static Task<ExistingNetworks> LoadAsync(IssueApiTokenRequest? request, IQuerySession session, CancellationToken ct) =>
        ExistingNetworks.LoadAsync(request?.NetworkIds, session, ct);

    public static ProblemDetails Validate(IssueApiTokenRequest? request, ExistingNetworks networks, TimeProvider clock)
    {
        if (request is null) return ApiProblems.MissingBody();
        var errors = new ValidationErrors()
            .Check("name", string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 64
                ? "name is required and must be at most 64 characters." : null)
            .Check("role", ParseRole(request.Role) is null ? "role is required: admin, analyst or viewer." : null)
            .Check("expiresAt", request.ExpiresAt is { } e && e <= clock.GetUtcNow() ? "expiresAt must be in the future." : null)
            .Check("networkIds", networks.Check(request.NetworkIds));
        return errors.Any ? errors.ToProblem() : ApiProblems.None;
    }

    /// <summary>Exactly the lower-case names of the contract; anything else is refused, never guessed.</summary>
    public static ApiTokenRole? ParseRole(string? role) => role switch
    {
        "admin" => ApiTokenRole.Admin,
        "analyst" => ApiTokenRole.Analyst,
        "viewer" => ApiTokenRole.Viewer,
        _ => null,
    };

    [RequiresRole(ApiTokenRole.Admin), Scoped(ScopeRule.EveryNetworkOnly)]
    [WolverinePost("/api/v1/tokens")]
    public static (IResult, IStartStream) Post(IssueApiTokenRequest request, ClaimsPrincipal user, TimeProvider clock)
    {
        var now = clock.GetUtcNow();
        var id = Guid.CreateVersion7(now);
        var value = TokenSecrets.New(TokenSecrets.ApiTokenPrefix);
        var name = request.Name!.Trim();
        var role = ParseRole(request.Role) ?? ApiTokenRole.Viewer; // Validate refused anything else
        var networks = request.NetworkIds?.ToList(); // Validate refused an empty list and repeats
        return (Results.Created($"/api/v1/tokens/{id}", new IssuedApiToken(id, name, role, now, request.ExpiresAt, value, networks)),
            MartenOps.StartStream<ApiToken>(id,
                new ApiTokenIssued(id, name, TokenSecrets.Hash(value), request.ExpiresAt, false, user.ToActor(), now, role, networks)));
    }
}
