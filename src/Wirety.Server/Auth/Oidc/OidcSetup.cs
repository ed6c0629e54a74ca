using System.Globalization;
using System.Security.Claims;
using Marten;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Wirety.Events.Users;
using Wirety.Server.Auth.Sessions;
using Wirety.Server.Users;

namespace Wirety.Server.Auth.Oidc;

/// <summary>
/// Single sign-on, registered only when <c>WIRETY_OIDC_ISSUER</c> and <c>WIRETY_OIDC_CLIENT_ID</c> are set
/// (<see cref="OidcOptions"/>): the UI's authorization-code flow with PKCE (scheme <see cref="SchemeName"/>, callback
/// <see cref="CallbackPath"/>), ending in a server-side UI session of the user; and the provider's JWT access tokens on the
/// API (scheme <see cref="WiretyIdentity.JwtSchemeName"/>, keys from its JWKS, cached by the handler). Both map the
/// provider identity (issuer, sub) to a Wirety user (<see cref="SignInUser"/>); no provider token is kept.
/// </summary>
public static class OidcSetup
{
    public const string SchemeName = "WiretyOidc";
    public const string CallbackPath = "/api/v1/auth/oidc/callback";
    public const string RefusedRedirect = "/?signin=refused", FailedRedirect = "/?signin=failed";

    public static WebApplicationBuilder AddOidc(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ISessionUsers, SessionUsers>();
        var oidc = new OidcOptions();
        builder.Configuration.GetSection(OidcOptions.Section).Bind(oidc);
        OidcOptions.ApplyEnvironment(oidc, builder.Configuration);
        // WIRETY_OIDC_ROLE_MAP in its own format (group=role[@networkId,...];...); a malformed map stops the start.
        var roleMap = RoleMap.Parse(builder.Configuration[OidcOptions.EnvironmentPrefix + "ROLE_MAP"]);
        builder.Services.AddSingleton(roleMap);
        if (!oidc.Enabled) return builder;

        var issuer = oidc.Issuer!.Trim();
        var https = issuer.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
        builder.Services.AddAuthentication()
            .AddOpenIdConnect(SchemeName, o =>
            {
                o.Authority = issuer;
                o.ClientId = oidc.ClientId;
                o.ClientSecret = oidc.ClientSecret;
                o.ResponseType = OpenIdConnectResponseType.Code;
                o.ResponseMode = OpenIdConnectResponseMode.Query;
                o.UsePkce = true;
                o.RequireHttpsMetadata = https;
                o.CallbackPath = CallbackPath;
                o.SaveTokens = false;
                o.MapInboundClaims = false;
                o.GetClaimsFromUserInfoEndpoint = false;
                o.Scope.Clear();
                foreach (var scope in oidc.ScopeList) o.Scope.Add(scope);
                if (!o.Scope.Contains("openid")) o.Scope.Add("openid");
                // Lax: the provider's redirect back is a top-level GET from another site; plain http on loopback must work too.
                o.CorrelationCookie.SameSite = SameSiteMode.Lax;
                o.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.NonceCookie.SameSite = SameSiteMode.Lax;
                o.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.Events = new OpenIdConnectEvents
                {
                    OnTicketReceived = TicketReceivedAsync,
                    OnRemoteFailure = context =>
                    {
                        context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(OidcSetup))
                            .LogWarning("OIDC sign-in failed: {Reason}", context.Failure?.Message);
                        context.Response.Redirect(FailedRedirect);
                        context.HandleResponse();
                        return Task.CompletedTask;
                    },
                };
            })
            .AddJwtBearer(WiretyIdentity.JwtSchemeName, o =>
            {
                o.Authority = issuer;
                o.Audience = string.IsNullOrWhiteSpace(oidc.Audience) ? oidc.ClientId : oidc.Audience;
                o.RequireHttpsMetadata = https;
                o.MapInboundClaims = false;
                o.SaveToken = false;
                o.Events = new JwtBearerEvents
                {
                    OnTokenValidated = JwtValidatedAsync,
                    OnChallenge = JwtChallengeAsync,
                };
            });
        return builder;
    }

    /// <summary>The provider's identity from a validated token's claims; null when it has no subject.</summary>
    public static ProviderIdentity? IdentityOf(ClaimsPrincipal principal, string? tokenIssuer, string groupsClaim, bool absentGroupsMeanNone)
    {
        var sub = principal.FindFirst("sub");
        if (sub is null || string.IsNullOrWhiteSpace(sub.Value)) return null;
        var issuer = tokenIssuer ?? sub.Issuer;
        var email = principal.FindFirstValue("email");
        var name = principal.FindFirstValue("name") ?? principal.FindFirstValue("preferred_username") ?? email ?? sub.Value;
        var groups = principal.FindAll(groupsClaim).Select(c => c.Value).ToList();
        return new ProviderIdentity(issuer, sub.Value, string.IsNullOrWhiteSpace(email) ? null : email, Truncate(name, 200),
            groups.Count > 0 || absentGroupsMeanNone ? groups : null);
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];

    private static async Task TicketReceivedAsync(TicketReceivedContext context)
    {
        var http = context.HttpContext;
        var services = http.RequestServices;
        var oidc = services.GetRequiredService<IOptions<OidcOptions>>().Value;
        var returnUrl = LocalPathOrRoot(context.ReturnUri);
        context.HandleResponse(); // no cookie sign-in of the ticket: Wirety's own session instead
        var who = context.Principal is { } p ? IdentityOf(p, p.FindFirst("sub")?.Issuer, oidc.GroupsClaim, absentGroupsMeanNone: true) : null;
        if (who is null)
        {
            http.Response.Redirect(FailedRedirect);
            return;
        }
        var decision = await SignInUser.RunAsync(services.GetRequiredService<IDocumentStore>(), who, SignInVia.Ui,
            services.GetRequiredService<RoleMap>(), services.GetRequiredService<TimeProvider>(), http.RequestAborted);
        if (decision.Refused)
        {
            http.Response.Redirect(RefusedRedirect);
            return;
        }
        await services.GetRequiredService<UiSessions>().StartAsync(http, NetworkScope.UserKind, decision.User!.Id, http.RequestAborted);
        http.Response.Redirect(returnUrl);
    }

    private static async Task JwtValidatedAsync(Microsoft.AspNetCore.Authentication.JwtBearer.TokenValidatedContext context)
    {
        var services = context.HttpContext.RequestServices;
        var oidc = services.GetRequiredService<IOptions<OidcOptions>>().Value;
        var token = context.SecurityToken as JsonWebToken;
        if (context.Principal is not { } principal || IdentityOf(principal, token?.Issuer, oidc.GroupsClaim, absentGroupsMeanNone: false) is not { } who)
        {
            context.Fail("The access token names no subject.");
            return;
        }
        var ct = context.HttpContext.RequestAborted;
        var decision = await SignInUser.RunAsync(services.GetRequiredService<IDocumentStore>(), who, SignInVia.Jwt,
            services.GetRequiredService<RoleMap>(), services.GetRequiredService<TimeProvider>(), ct);
        if (decision.Refused || await services.GetRequiredService<ISessionUsers>().IdentityAsync(decision.User!.Id, ct) is not { } identity)
        {
            context.Fail("This user is disabled in Wirety.");
            return;
        }
        identity = new ClaimsIdentity(identity.Claims, WiretyIdentity.JwtSchemeName);
        identity.AddClaim(new Claim(NetworkScope.KindClaim, NetworkScope.UserKind));
        if (token is not null && token.ValidTo > DateTime.MinValue)
            identity.AddClaim(new Claim(ApiTokenAuthentication.ExpiresAtClaim,
                new DateTimeOffset(token.ValidTo, TimeSpan.Zero).ToString("O", CultureInfo.InvariantCulture)));
        context.Principal = new ClaimsPrincipal(identity);
    }

    /// <summary>The same 401 problem as Wirety's other schemes (BearerCredentialHandler), saying why the token was refused.</summary>
    private static async Task JwtChallengeAsync(JwtBearerChallengeContext context)
    {
        context.HandleResponse();
        var detail = context.AuthenticateFailure switch
        {
            null => "A bearer credential is required: a Wirety API token or an access token of the identity provider.",
            Microsoft.IdentityModel.Tokens.SecurityTokenExpiredException => "The access token has expired.",
            var e when e.Message.StartsWith("This user", StringComparison.Ordinal) || e.Message.StartsWith("The access token names", StringComparison.Ordinal) => e.Message,
            _ => "The access token was not accepted (signature, issuer, audience or lifetime).",
        };
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Bearer";
        await Results.Problem(statusCode: 401, title: "Unauthorized", detail: detail).ExecuteAsync(context.HttpContext);
    }

    /// <summary>A local path ("/networks?x=1"), else "/": never another site (an open redirect), never "//host".</summary>
    public static string LocalPathOrRoot(string? url) =>
        url is { Length: > 0 } u && u[0] == '/' && (u.Length == 1 || (u[1] != '/' && u[1] != '\\')) && !u.Any(char.IsControl) ? u : "/";
}
