// A real OpenID Connect provider for Wirety's tests (OpenIddict 7, in-memory, plain HTTP on 127.0.0.1). Not for production.
//
// Build it with the solution (`dotnet build Wirety.sln -c Debug`), then start it by hand or from a harness:
//
//   dotnet tests/Wirety.Tests.IdP/bin/$CONFIG/net10.0/Wirety.Tests.IdP.dll --port 5599 \
//       --client-id wirety-ui --client-secret S --redirect-uri http://127.0.0.1:8080/api/v1/auth/oidc/callback \
//       --automation-client-id wirety-automation --automation-client-secret S2 --automation-groups wirety-admins \
//       --audience wirety
//
// Options (all but --port have defaults):
//   --port N                         required; listens on http://127.0.0.1:N/
//   --issuer URI                     default http://127.0.0.1:N/
//   --client-id ID                   the UI client (authorization code + PKCE, refresh tokens); default wirety-ui
//   --client-secret S                its secret (confidential client: client_secret_basic or _post); default wirety-ui-secret
//   --redirect-uri URI               repeatable; exact match
//   --allow-loopback-callbacks       also accept http://127.0.0.1:ANY/api/v1/auth/oidc/callback (and localhost)
//   --automation-client-id ID        a client_credentials client; default wirety-automation
//   --automation-client-secret S     default wirety-automation-secret
//   --automation-groups a,b          the groups claim of its tokens; default none
//   --audience A                     the aud of every access token; default wirety
//   --exit-with-pid PID              stop when that process is gone (a test host that died without stopping us)
//
// It prints "IdP listening on http://127.0.0.1:N/" once it answers. Discovery: /.well-known/openid-configuration,
// keys: /.well-known/jwks, endpoints under /connect/ (authorize, token, userinfo, endsession). Access tokens are plain
// RS256 JWTs (an ephemeral key per process) with sub, aud, scope, name, email and groups (a JSON array, left out
// when the subject has none); id tokens carry sub, name, email and groups. The authorization endpoint sends a browser
// without the provider's login cookie to /login (a form: "Username", "Password", "Sign in"), which signs in and returns
// to the authorization request. login_hint=USERNAME on the authorization request skips the form (for tests without a
// browser; it wins over the login cookie). Users (password "password"): alice (u-alice, wirety-admins), bob (u-bob,
// staff), mallory (u-mallory, the same e-mail as alice, no groups), carol (u-carol, corp-ops). The client_credentials
// token's sub is the client id. The login form only returns to GET authorization requests.
using System.Collections.Immutable;
using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;
using OpenIddict.Server.AspNetCore;
using Wirety.Tests.IdP;
using static OpenIddict.Abstractions.OpenIddictConstants;

IdpSettings settings;
try
{
    settings = IdpSettings.Parse(args);
}
catch (Exception e) when (e is ArgumentException or UriFormatException or FormatException or OverflowException)
{
    await Console.Error.WriteLineAsync($"Wirety.Tests.IdP: {e.Message} (see the comment atop Program.cs)");
    return 2;
}

// No args to the host: the options above are ours, not configuration keys.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, settings.Port));
builder.Logging.ClearProviders().AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
builder.Services.AddSingleton(settings);
// Keys live and die with the process: nothing is written to the home directory.
builder.Services.AddDataProtection().UseEphemeralDataProtectionProvider();

builder.Services.AddDbContext<IdpDbContext>(options => options
    .UseInMemoryDatabase("idp")
    // OpenIddict's stores open transactions; the in-memory provider has none and would throw by default.
    .ConfigureWarnings(w => w.Ignore(InMemoryEventId.TransactionIgnoredWarning))
    .UseOpenIddict());

builder.Services.AddOpenIddict()
    .AddCore(options =>
    {
        options.UseEntityFrameworkCore().UseDbContext<IdpDbContext>();
        options.ReplaceApplicationManager<OpenIddictEntityFrameworkCoreApplication, LoopbackApplicationManager>();
    })
    .AddServer(options =>
    {
        options.SetIssuer(settings.Issuer)
            .SetAuthorizationEndpointUris("connect/authorize")
            .SetTokenEndpointUris("connect/token")
            .SetUserInfoEndpointUris("connect/userinfo")
            .SetEndSessionEndpointUris("connect/endsession");
        options.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange()
            .AllowRefreshTokenFlow()
            .AllowClientCredentialsFlow();
        // Tests ask for whatever scopes they like (openid profile email groups offline_access ...).
        options.DisableScopeValidation().IgnoreScopePermissions();
        // Ephemeral keys, made here rather than by AddEphemeralSigningKey/AddEphemeralEncryptionKey, whose RSA-4096
        // keys take seconds to generate on a busy machine: RSA-2048 signs (RS256), AES-256 wraps the provider's own
        // codes and refresh tokens. Access tokens stay plain signed JWTs.
        options.AddSigningKey(new RsaSecurityKey(RSA.Create(2048)) { KeyId = Guid.NewGuid().ToString("N") })
            .AddEncryptionKey(new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)))
            .DisableAccessTokenEncryption();
        options.UseAspNetCore()
            .DisableTransportSecurityRequirement()
            .EnableAuthorizationEndpointPassthrough()
            .EnableTokenEndpointPassthrough()
            .EnableUserInfoEndpointPassthrough()
            .EnableEndSessionEndpointPassthrough();
    });

const string LoginScheme = CookieAuthenticationDefaults.AuthenticationScheme;
builder.Services.AddAuthentication(LoginScheme).AddCookie(LoginScheme, o =>
{
    o.Cookie.Name = "wirety_idp_login";
    o.Cookie.SameSite = SameSiteMode.Lax;
    o.LoginPath = "/login";
});
builder.Services.AddAuthorization();

var app = builder.Build();
await SeedClientsAsync(app.Services, settings);

app.UseAuthentication();
app.UseAuthorization();

app.MapMethods("/connect/authorize", [HttpMethods.Get, HttpMethods.Post], async (HttpContext http) =>
{
    var request = http.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("not an OpenID Connect request");
    // A known login_hint wins over the login cookie, so a test can switch users without signing out.
    var login = await http.AuthenticateAsync(LoginScheme);
    var user = Users.ByUsername(request.LoginHint)
        ?? (login.Succeeded ? Users.BySubject(login.Principal.FindFirstValue(Claims.Subject)) : null);
    if (user is null) // the form posts back to /login, which returns here (GET requests only: a POSTed one is not kept)
        return Results.Redirect("/login?returnUrl=" + Uri.EscapeDataString(http.Request.Path + http.Request.QueryString));
    if (login.Principal?.FindFirstValue(Claims.Subject) != user.Subject) await http.SignInAsync(LoginScheme, LoginPrincipal(user));

    return Results.SignIn(TokenPrincipal(user, request.GetScopes(), settings.Audience), null,
        OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
});

app.MapPost("/connect/token", async (HttpContext http) =>
{
    var request = http.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("not an OpenID Connect request");
    if (request.IsClientCredentialsGrantType())
    {
        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, request.ClientId);
        identity.SetClaim(Claims.Name, request.ClientId);
        SetGroups(identity, settings.AutomationGroups);
        var principal = new ClaimsPrincipal(identity);
        principal.SetScopes(request.GetScopes()).SetResources(settings.Audience);
        principal.SetDestinations(_ => [Destinations.AccessToken]);
        return Results.SignIn(principal, null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    // Authorization code or refresh token: the claims come afresh from the user, the scopes from the grant.
    var granted = await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    if (Users.BySubject(granted.Principal?.GetClaim(Claims.Subject)) is not { } user)
        return Results.Forbid(ErrorProperties(Errors.InvalidGrant, "the user is no longer known"),
            [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
    return Results.SignIn(TokenPrincipal(user, granted.Principal!.GetScopes(), settings.Audience), null,
        OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
});

app.MapMethods("/connect/userinfo", [HttpMethods.Get, HttpMethods.Post], async (HttpContext http) =>
{
    var result = await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    if (Users.BySubject(result.Principal?.GetClaim(Claims.Subject)) is not { } user)
        return Results.Challenge(ErrorProperties(Errors.InvalidToken, "the user is no longer known"),
            [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
    return Results.Json(new Dictionary<string, object>
    {
        [Claims.Subject] = user.Subject, [Claims.Name] = user.Name, [Claims.Email] = user.Email, ["groups"] = user.Groups,
    });
});

app.MapMethods("/connect/endsession", [HttpMethods.Get, HttpMethods.Post], async (HttpContext http) =>
{
    await http.SignOutAsync(LoginScheme);
    // OpenIddict redirects to a registered post_logout_redirect_uri when one was given, else to RedirectUri.
    return Results.SignOut(new AuthenticationProperties { RedirectUri = "/" },
        [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
});

app.MapGet("/login", (string? returnUrl) => LoginPage(returnUrl, error: null));

app.MapPost("/login", async (HttpContext http) =>
{
    // Read by hand: minimal API form binding would demand antiforgery, which a test IdP does without.
    var form = await http.Request.ReadFormAsync();
    var returnUrl = form["returnUrl"].ToString();
    if (Users.SignIn(form["username"], form["password"]) is not { } user)
        return LoginPage(returnUrl, "Unknown user or wrong password.");
    await http.SignInAsync(LoginScheme, LoginPrincipal(user));
    return Results.Redirect(IsLocal(returnUrl) ? returnUrl : "/");
});

app.MapGet("/", () => Results.Text("Wirety test identity provider: see /.well-known/openid-configuration\n"));

await app.StartAsync();
Console.WriteLine($"IdP listening on http://127.0.0.1:{settings.Port}/");
if (settings.ExitWithPid is { } parent) _ = StopWhenGoneAsync(parent, app.Lifetime);
await app.WaitForShutdownAsync();
return 0;

static async Task StopWhenGoneAsync(int pid, IHostApplicationLifetime lifetime)
{
    using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
    try
    {
        while (await timer.WaitForNextTickAsync(lifetime.ApplicationStopping))
        {
            if (IsRunning(pid)) continue;
            Console.WriteLine($"process {pid} is gone: stopping");
            lifetime.StopApplication();
            return;
        }
    }
    catch (OperationCanceledException) { } // stopping anyway
}

static bool IsRunning(int pid)
{
    try
    {
        using var process = System.Diagnostics.Process.GetProcessById(pid);
        return !process.HasExited;
    }
    catch (ArgumentException) { return false; } // no such process
}

static ClaimsPrincipal LoginPrincipal(User user) =>
    new(new ClaimsIdentity([new Claim(Claims.Subject, user.Subject), new Claim(Claims.Name, user.Name)], LoginScheme));

static ClaimsPrincipal TokenPrincipal(User user, ImmutableArray<string> scopes, string audience)
{
    var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
    identity.SetClaim(Claims.Subject, user.Subject)
        .SetClaim(Claims.Name, user.Name)
        .SetClaim(Claims.PreferredUsername, user.Username)
        .SetClaim(Claims.Email, user.Email);
    SetGroups(identity, user.Groups);
    var principal = new ClaimsPrincipal(identity);
    principal.SetScopes(scopes).SetResources(audience);
    principal.SetDestinations(_ => [Destinations.AccessToken, Destinations.IdentityToken]);
    return principal;
}

// One claim holding a JSON array, so a single group is still an array in the token.
static void SetGroups(ClaimsIdentity identity, IReadOnlyList<string> groups)
{
    if (groups.Count > 0) identity.AddClaim(new Claim("groups", JsonSerializer.Serialize(groups), JsonClaimValueTypes.JsonArray));
}

static AuthenticationProperties ErrorProperties(string error, string description) => new(new Dictionary<string, string?>
{
    [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
    [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
});

static bool IsLocal(string url) =>
    url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal);

static IResult LoginPage(string? returnUrl, string? error)
{
    var html = new StringBuilder()
        .Append("<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign in - Wirety test IdP</title></head><body>")
        .Append("<h1>Sign in</h1>");
    if (error is not null) html.Append("<p role=\"alert\">").Append(WebUtility.HtmlEncode(error)).Append("</p>");
    html.Append("<form method=\"post\" action=\"/login\">")
        .Append("<input type=\"hidden\" name=\"returnUrl\" value=\"").Append(WebUtility.HtmlEncode(returnUrl ?? "/")).Append("\">")
        .Append("<p><label for=\"username\">Username</label> <input id=\"username\" name=\"username\" autocomplete=\"username\"></p>")
        .Append("<p><label for=\"password\">Password</label> <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\"></p>")
        .Append("<button type=\"submit\">Sign in</button></form></body></html>");
    return Results.Content(html.ToString(), "text/html; charset=utf-8", statusCode: error is null ? 200 : 401);
}

static async Task SeedClientsAsync(IServiceProvider services, IdpSettings settings)
{
    await using var scope = services.CreateAsyncScope();
    var manager = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
    var ui = new OpenIddictApplicationDescriptor
    {
        ClientId = settings.ClientId,
        ClientSecret = settings.ClientSecret,
        ClientType = ClientTypes.Confidential,
        DisplayName = "Wirety UI",
        Permissions =
        {
            Permissions.Endpoints.Authorization, Permissions.Endpoints.Token, Permissions.Endpoints.EndSession,
            Permissions.GrantTypes.AuthorizationCode, Permissions.GrantTypes.RefreshToken, Permissions.ResponseTypes.Code,
        },
        Requirements = { Requirements.Features.ProofKeyForCodeExchange },
    };
    foreach (var uri in settings.RedirectUris)
    {
        ui.RedirectUris.Add(uri);
        // Signing out may return to the relying party's root.
        ui.PostLogoutRedirectUris.Add(new Uri(uri, "/"));
    }
    await manager.CreateAsync(ui);

    await manager.CreateAsync(new OpenIddictApplicationDescriptor
    {
        ClientId = settings.AutomationClientId,
        ClientSecret = settings.AutomationClientSecret,
        ClientType = ClientTypes.Confidential,
        DisplayName = "Wirety automation",
        Permissions = { Permissions.Endpoints.Token, Permissions.GrantTypes.ClientCredentials },
    });
}

/// <summary>OpenIddict's entities in EF Core's in-memory database: gone when the process ends.</summary>
public sealed class IdpDbContext(DbContextOptions<IdpDbContext> options) : DbContext(options);
