using Wirety.Server.Forwarding;

namespace Wirety.Server.Auth.Sessions;

/// <summary>
/// The scheme and origin the browser sees. Behind a load balancer that terminates TLS the connection is plain
/// HTTP, so a trusted proxy's (<c>WIRETY_TRUSTED_PROXIES</c>) last <c>X-Forwarded-Proto</c> entry counts: the
/// session cookie is then Secure, and a WebSocket's Origin is compared with <c>https://host</c>.
/// </summary>
public static class BrowserOrigin
{
    public const string ForwardedProtoHeader = "X-Forwarded-Proto";

    public static bool IsHttps(HttpContext http)
    {
        if (http.Request.IsHttps) return true;
        if (http.Connection.RemoteIpAddress is not { } peer || !http.RequestServices.GetRequiredService<TrustedProxies>().IsTrusted(peer)) return false;
        var proto = http.Request.Headers[ForwardedProtoHeader].ToString();
        var last = proto.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        return string.Equals(last, "https", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary><c>scheme://host[:port]</c> as the browser addressed this server.</summary>
    public static string Of(HttpContext http) => $"{(IsHttps(http) ? "https" : http.Request.Scheme)}://{http.Request.Host.Value}";
}
