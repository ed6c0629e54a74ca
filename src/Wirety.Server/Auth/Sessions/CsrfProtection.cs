using System.Security.Cryptography;
using System.Text;

namespace Wirety.Server.Auth.Sessions;

/// <summary>
/// After authentication: a request authenticated by the UI session cookie that may change something (any method
/// but GET, HEAD, OPTIONS) must carry <see cref="UiSessionCookie.CsrfHeader"/> equal to its session's CSRF token,
/// and a WebSocket upgrade so authenticated must come from the server's own origin; otherwise 403 before any
/// endpoint runs (nothing appended). Bearer callers are not affected: a browser never adds their credential by itself.
/// </summary>
public static class CsrfProtection
{
    public static IApplicationBuilder UseCsrfProtection(this IApplicationBuilder app) => app.Use(CheckAsync);

    public static Task CheckAsync(HttpContext http, RequestDelegate next)
    {
        // Only a session principal carries the claim (UiSessionAuthentication).
        if (http.User.FindFirst(UiSessionCookie.CsrfClaim)?.Value is not { Length: > 0 } expected) return next(http);

        if (http.WebSockets.IsWebSocketRequest)
            return SameOrigin(http) ? next(http) : ForbiddenAsync(http, "A WebSocket opened with the session cookie must come from this server's own origin.");
        if (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method) || HttpMethods.IsOptions(http.Request.Method))
            return next(http);
        return http.Request.Headers.TryGetValue(UiSessionCookie.CsrfHeader, out var sent) && sent.Count == 1 && FixedTimeEquals(sent[0], expected)
            ? next(http)
            : ForbiddenAsync(http, $"missing or wrong {UiSessionCookie.CsrfHeader} header");
    }

    /// <summary>The Origin header is exactly this request's own <c>scheme://host[:port]</c> (<see cref="BrowserOrigin"/>).</summary>
    private static bool SameOrigin(HttpContext http) =>
        http.Request.Headers.Origin is { Count: 1 } origin && string.Equals(origin[0], BrowserOrigin.Of(http), StringComparison.OrdinalIgnoreCase);

    private static bool FixedTimeEquals(string? sent, string expected) =>
        sent is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(sent), Encoding.UTF8.GetBytes(expected));

    private static Task ForbiddenAsync(HttpContext http, string detail) =>
        Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: detail).ExecuteAsync(http);
}
