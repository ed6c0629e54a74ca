using Microsoft.Net.Http.Headers;

namespace Wirety.Server.WebUi;

/// <summary>
/// Browser hardening headers on every response (the UI's pages and files, and the API, which a browser may
/// also be pointed at): a Content-Security-Policy that allows only this origin (no inline scripts, no
/// <c>eval</c>, no framing), <c>nosniff</c>, and no referrer sent to other origins.
/// </summary>
/// <remarks>
/// The built UI needs nothing beyond <c>'self'</c>: Vite emits its scripts and CSS as files under /assets,
/// React sets <c>style</c> props through the CSSOM (which <c>style-src</c> does not govern), the API and its
/// WebSocket are same-origin (<c>connect-src 'self'</c> covers ws/wss to the same host), and the favicon is
/// a <c>data:</c> image (hence <c>img-src data:</c>).
/// </remarks>
public static class SecurityHeaders
{
    public const string ContentSecurityPolicy =
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    public const string ReferrerPolicy = "no-referrer";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((http, next) =>
    {
        http.Response.OnStarting(static state =>
        {
            var headers = ((HttpContext)state).Response.Headers;
            headers[HeaderNames.ContentSecurityPolicy] = ContentSecurityPolicy;
            headers[HeaderNames.XContentTypeOptions] = "nosniff";
            headers["Referrer-Policy"] = ReferrerPolicy;
            // Older browsers that predate frame-ancestors.
            headers[HeaderNames.XFrameOptions] = "DENY";
            return Task.CompletedTask;
        }, http);
        return next(http);
    });
}
