using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Marten;
using Marten.Exceptions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Wirety.Projections.Tokens;

namespace Wirety.Server.Auth.Sessions;

/// <summary>
/// Authenticates the <see cref="UiSessionCookie.Name"/> cookie against the stored <see cref="UiSession"/>s
/// (one primary-key lookup per request, no cache: a sign-out or a deleted session is refused at once on every
/// instance). A session past its absolute lifetime or idle timeout is refused (and deleted). A token session
/// takes its role and network scope from the token; a revoked or expired token ends it. A user session takes
/// them from <see cref="ISessionUsers"/>; an unknown or disabled user ends it. The principal carries the
/// contract claims (<see cref="NetworkScope"/>) and <see cref="UiSessionCookie.CsrfClaim"/>.
/// </summary>
public sealed class UiSessionAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    IDocumentStore store, TimeProvider clock)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "WiretySession";
    private const string FailureKey = "wirety.auth.session-failure";
    private const string Missing = "A session is required: sign in again.";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Cookies.TryGetValue(UiSessionCookie.Name, out var secret) || string.IsNullOrEmpty(secret))
            return Fail(Missing);
        // A well-formed cookie is 43 base64url characters; anything else needs no lookup.
        if (secret.Length > 128) return Fail("The session has ended: sign in again.");

        var id = TokenSecrets.Hash(secret);
        var now = clock.GetUtcNow();
        var ct = Context.RequestAborted;
        await using var db = store.LightweightSession();
        ApiToken? token = null;
        var session = await db.Query<UiSession>().Include<ApiToken>(s => s.SubjectId, t => token = t)
            .Where(s => s.Id == id).SingleOrDefaultAsync(ct);
        if (session is null || !TokenSecrets.HashesEqual(session.Id, id)) return Fail("The session has ended: sign in again.");
        if (!session.IsUsableAt(now)) return await EndAsync(db, session, "The session has expired: sign in again.");

        ClaimsIdentity identity;
        DateTimeOffset expires = session.ExpiresAt;
        if (session.Kind == NetworkScope.TokenKind)
        {
            if (token is null || token.Id != session.SubjectId || token.RevokedAt is not null)
                return await EndAsync(db, session, "The API token of this session has been revoked: sign in again.");
            if (!token.IsUsableAt(now)) return await EndAsync(db, session, "The API token of this session has expired: sign in again.");
            identity = new ClaimsIdentity(
                [
                    new Claim(ClaimTypes.NameIdentifier, token.Id.ToString()), new Claim(ClaimTypes.Name, token.Name),
                    new Claim(RoleRequirementHandler.RoleClaim, token.Role.ToString().ToLowerInvariant()),
                ], SchemeName);
            // TODO(integrator): main adds ApiToken.NetworkIds; then: identity.AddClaims(NetworkScope.ClaimsFor(token.NetworkIds));
            if (token.ExpiresAt is { } tokenExpires && tokenExpires < expires) expires = tokenExpires;
        }
        else if (session.Kind == NetworkScope.UserKind
                 && Context.RequestServices.GetService<ISessionUsers>() is { } users
                 && await users.IdentityAsync(session.SubjectId, ct) is { } user)
        {
            identity = new ClaimsIdentity(user.Claims.Where(c => c.Type is not (NetworkScope.KindClaim or UiSessionCookie.CsrfClaim or UiSessionCookie.SessionClaim or ApiTokenAuthentication.ExpiresAtClaim)),
                SchemeName);
            if (user.FindFirst(ApiTokenAuthentication.ExpiresAtClaim) is { } claim
                && DateTimeOffset.TryParse(claim.Value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var userExpires) && userExpires < expires)
                expires = userExpires;
        }
        else return await EndAsync(db, session, "The user of this session is unknown or disabled.");

        identity.AddClaim(new Claim(NetworkScope.KindClaim, session.Kind));
        identity.AddClaim(new Claim(UiSessionCookie.CsrfClaim, session.CsrfToken));
        identity.AddClaim(new Claim(UiSessionCookie.SessionClaim, session.Id));
        // For what outlives the request: the live channel closes when the session (or its token) ends.
        identity.AddClaim(new Claim(ApiTokenAuthentication.ExpiresAtClaim, expires.ToString("O", CultureInfo.InvariantCulture)));

        if (now - session.LastSeenAt >= SessionOptions.TouchInterval)
        {
            // An update, not a store: a session deleted meanwhile (sign-out on another instance) stays deleted.
            db.Update(session with { LastSeenAt = now });
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (NonExistentDocumentException)
            {
                return Fail("The session has ended: sign in again.");
            }
        }
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    private async Task<AuthenticateResult> EndAsync(IDocumentSession db, UiSession session, string why)
    {
        db.Delete<UiSession>(session.Id);
        await db.SaveChangesAsync(Context.RequestAborted);
        return Fail(why);
    }

    private AuthenticateResult Fail(string why)
    {
        Context.Items[FailureKey] = why;
        return AuthenticateResult.Fail(why);
    }

    /// <summary>The same 401 problem as the bearer schemes (<see cref="BearerCredentialHandler"/>).</summary>
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        await Results.Problem(statusCode: 401, title: "Unauthorized", detail: Context.Items[FailureKey] as string ?? Missing).ExecuteAsync(Context);
    }
}
