using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Auth.Oidc;

/// <summary>
/// <c>GET /api/v1/auth/oidc/login?returnUrl=/...</c> (anonymous): sends the browser to the identity provider
/// (authorization-code flow with PKCE). After the callback the user has a UI session and lands on
/// <c>returnUrl</c> — a local path only, anything else becomes "/". 404 when single sign-on is not configured.
/// </summary>
public static class OidcLogin
{
    [AllowAnonymous]
    [WolverineGet("/api/v1/auth/oidc/login")]
    public static IResult Get(HttpContext http, IOptions<OidcOptions> oidc)
    {
        if (!oidc.Value.Enabled)
            return ApiProblems.NotFound("Single sign-on is not configured on this server (WIRETY_OIDC_ISSUER, WIRETY_OIDC_CLIENT_ID).").ToResult();
        var returnUrl = OidcSetup.LocalPathOrRoot(http.Request.Query["returnUrl"].FirstOrDefault());
        return Results.Challenge(new AuthenticationProperties { RedirectUri = returnUrl }, [OidcSetup.SchemeName]);
    }
}
