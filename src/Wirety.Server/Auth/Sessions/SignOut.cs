using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Wirety.Server.LiveChannel;
using Wolverine.Http;

namespace Wirety.Server.Auth.Sessions;

/// <summary>
/// <c>POST /api/v1/auth/signout</c>: ends the UI session of the request's cookie on the server (the row is
/// deleted, so a copy of the cookie is refused on every instance) and expires the cookie; 204. Anonymous so
/// that a signed-in person without a role yet can sign out, and an ended session can still clear its cookie;
/// a valid session must send its CSRF header like any write (<see cref="CsrfProtection"/>). A bearer caller
/// gets a 204 that changes nothing.
/// </summary>
public static class SignOut
{
    [AllowAnonymous]
    [WolverinePost("/api/v1/auth/signout")]
    public static async Task<IResult> Post(HttpContext http, UiSessions sessions, LiveHub liveHub, CancellationToken ct)
    {
        // The scheme selection (WiretyIdentity) goes by the Authorization header first: with one, this is a bearer caller.
        if (!string.IsNullOrEmpty(http.Request.Headers.Authorization) || !http.Request.Cookies.ContainsKey(UiSessionCookie.Name))
            return Results.NoContent();
        await sessions.EndAsync(http, ct);
        // Its live channels here close now; those on other instances within SessionLiveChannels.CheckInterval.
        if (http.User.FindFirstValue(UiSessionCookie.SessionClaim) is { } id)
            await liveHub.CloseSessionsAsync(new HashSet<string> { id }, "signed out");
        return Results.NoContent();
    }
}
