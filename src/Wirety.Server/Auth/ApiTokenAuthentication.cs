using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Wirety.Events;
using Wirety.Projections.Tokens;

namespace Wirety.Server.Auth;

/// <summary>Authenticates <c>Authorization: Bearer wirety_...</c> against the stored API token hashes.</summary>
public sealed class ApiTokenAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    CredentialCache<ApiToken> tokens, TimeProvider clock)
    : BearerCredentialHandler(options, logger, encoder)
{
    public const string SchemeName = "WiretyToken";
    public const string ExpiresAtClaim = "wirety:expires";

    protected override string MissingCredential => "An API token is required: send `Authorization: Bearer wirety_...`.";

    protected override async Task<AuthenticateResult> AuthenticateBearerAsync(string value)
    {
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
            [
                new Claim(ClaimTypes.NameIdentifier, token.Id.ToString()), new Claim(ClaimTypes.Name, token.Name),
                new Claim(RoleRequirementHandler.RoleClaim, token.Role.ToString().ToLowerInvariant()),
                new Claim(NetworkScope.KindClaim, NetworkScope.TokenKind),
                .. NetworkScope.ClaimsFor(token.NetworkIds),
            ], SchemeName);
        // For what outlives the request (the live channel's socket is closed when the token expires).
        if (token.ExpiresAt is { } expires) identity.AddClaim(new Claim(ExpiresAtClaim, expires.ToString("O", CultureInfo.InvariantCulture)));
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}

public static class ActorClaims
{
    /// <summary>The acting token as recorded on events.</summary>
    public static Actor ToActor(this ClaimsPrincipal user) =>
        new(Guid.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier)!), user.FindFirstValue(ClaimTypes.Name)!);

    /// <summary>When the acting API token expires, or null when it does not.</summary>
    public static DateTimeOffset? TokenExpiresAt(this ClaimsPrincipal user) =>
        user.FindFirstValue(ApiTokenAuthentication.ExpiresAtClaim) is { } value
            ? DateTimeOffset.Parse(value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind)
            : null;
}
