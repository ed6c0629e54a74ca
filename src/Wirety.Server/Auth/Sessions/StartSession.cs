using System.Security.Claims;
using Wirety.Events.Tokens;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Auth.Sessions;

/// <summary>
/// <c>POST /api/v1/auth/session</c>: the UI's token sign-in. The caller presents an API token (any role) as a
/// bearer once; the answer is 204 with the <see cref="UiSessionCookie.Name"/> cookie of a new session of kind
/// token, so the browser never stores the token. Nothing is appended (sessions are operational state).
/// </summary>
public static class StartSession
{
    [RequiresRole(ApiTokenRole.Viewer)]
    [WolverinePost("/api/v1/auth/session")]
    public static async Task<IResult> Post(HttpContext http, ClaimsPrincipal user, UiSessions sessions, CancellationToken ct)
    {
        // A session cookie or an identity-provider JWT is not a token sign-in.
        if (user.Identity?.AuthenticationType != ApiTokenAuthentication.SchemeName)
            return ApiProblems.BadRequest("Sign in with an API token: send `Authorization: Bearer wirety_...`.").ToResult();
        // A session this browser had before is over: a sign-in replaces it.
        await sessions.DeleteAsync(http, ct);
        await sessions.StartAsync(http, NetworkScope.TokenKind, Guid.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier)!), ct);
        return Results.NoContent();
    }
}
