using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Wirety.Server.Auth.Sessions;

/// <summary>
/// The policy scheme of every admin/UI endpoint and the live channel: picks the scheme that can read the
/// caller's credential. <c>Authorization: Bearer wirety_...</c> goes to the API-token scheme; another bearer
/// that looks like a JWT (three dot-separated parts) to <see cref="JwtSchemeName"/> when that is registered
/// (else the API-token scheme, which refuses it); no Authorization header but a <see cref="UiSessionCookie.Name"/>
/// cookie to the session scheme; nothing at all to the API-token scheme (its "An API token is required" 401).
/// Agent endpoints keep their own scheme.
/// </summary>
public static class WiretyIdentity
{
    public const string SchemeName = "WiretyIdentity";
    public const string JwtSchemeName = "WiretyJwt";

    public static AuthenticationBuilder AddWiretyIdentity(this AuthenticationBuilder auth) =>
        auth.AddPolicyScheme(SchemeName, "API token, UI session or identity-provider JWT", o => o.ForwardDefaultSelector = Select);

    public static string Select(HttpContext http)
    {
        string? header = http.Request.Headers[HeaderNames.Authorization];
        if (!string.IsNullOrEmpty(header))
        {
            if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                var value = header["Bearer ".Length..].Trim();
                if (!value.StartsWith(TokenSecrets.ApiTokenPrefix, StringComparison.Ordinal) && LooksLikeJwt(value)
                    && JwtRegistered(http))
                    return JwtSchemeName;
            }
            return ApiTokenAuthentication.SchemeName;
        }
        return http.Request.Cookies.ContainsKey(UiSessionCookie.Name) ? UiSessionAuthentication.SchemeName : ApiTokenAuthentication.SchemeName;
    }

    private static bool LooksLikeJwt(string value) => value.Count(c => c == '.') == 2 && !value.Contains(' ');

    private static bool JwtRegistered(HttpContext http) =>
        http.RequestServices.GetRequiredService<IOptions<AuthenticationOptions>>().Value.SchemeMap.ContainsKey(JwtSchemeName);
}
