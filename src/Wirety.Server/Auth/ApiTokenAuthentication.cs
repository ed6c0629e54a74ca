using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Wirety.Events;
using Wirety.Projections.Tokens;

namespace Wirety.Server.Auth;

/// <summary>Authenticates <c>Authorization: Bearer wirety_...</c> against the stored token hashes.</summary>
public sealed class ApiTokenAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    CredentialCache<ApiToken> tokens, TimeProvider clock)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "WiretyToken";
    private const string FailureKey = "wirety.auth.failure";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header)) return Fail("An API token is required: send `Authorization: Bearer wirety_...`.");
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return Fail("The Authorization header must use the Bearer scheme.");
        var value = header["Bearer ".Length..].Trim();
        // Agent session and enrollment credentials share the prefix; they are never API tokens, so no lookup
        // (this scheme runs on every request, the agents' heartbeats included).
        if (!value.StartsWith(TokenSecrets.ApiTokenPrefix, StringComparison.Ordinal)
            || value.StartsWith(TokenSecrets.SessionTokenPrefix, StringComparison.Ordinal)
            || value.StartsWith(TokenSecrets.EnrollmentTokenPrefix, StringComparison.Ordinal))
            return Fail("The bearer token is not a Wirety API token.");

        var hash = TokenSecrets.Hash(value);
        var token = await tokens.FindAsync(hash, Context.RequestAborted);
        // The lookup is by hash; the fixed-time comparison guards against any index-side shortcut.
        if (token is null || !TokenSecrets.HashesEqual(token.TokenHash, hash)) return Fail("The API token is not known.");
        if (token.RevokedAt is not null) return Fail("The API token has been revoked.");
        if (!token.IsUsableAt(clock.GetUtcNow())) return Fail("The API token has expired.");

        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, token.Id.ToString()), new Claim(ClaimTypes.Name, token.Name)], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    private AuthenticateResult Fail(string why)
    {
        Context.Items[FailureKey] = why;
        return AuthenticateResult.Fail(why);
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        var detail = Context.Items[FailureKey] as string ?? "An API token is required.";
        await Results.Problem(statusCode: 401, title: "Unauthorized", detail: detail).ExecuteAsync(Context);
    }
}

public static class ActorClaims
{
    /// <summary>The acting token as recorded on events.</summary>
    public static Actor ToActor(this ClaimsPrincipal user) =>
        new(Guid.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier)!), user.FindFirstValue(ClaimTypes.Name)!);
}
