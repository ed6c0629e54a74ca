using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Wirety.Testing;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Auth;

/// <summary>
/// The real server with single sign-on against the real test identity provider (tests/Wirety.Tests.IdP, a separate
/// OpenIddict process on a loopback port), started before the server. Role map: wirety-admins → admin, corp-ops →
/// analyst of <see cref="CorpOpsNetwork"/>.
/// </summary>
public sealed class OidcApp : WiretyApp
{
    public static readonly Guid CorpOpsNetwork = new("0192f000-0000-7000-8000-00000000c0c0");
    public const string RoleMap = "wirety-admins=admin; corp-ops=analyst@0192f000-0000-7000-8000-00000000c0c0";
    public IdentityProviderProcess Idp { get; private set; } = null!;

    protected override async Task BeforeStartAsync() =>
        // TestServer's address is http://localhost/: the provider accepts its loopback callback.
        Idp = await IdentityProviderProcess.StartAsync(new IdentityProviderOptions([], AllowLoopbackCallbacks: true));

    protected override void Configure(IWebHostBuilder b)
    {
        b.UseSetting("WIRETY_OIDC_ISSUER", Idp.Issuer);
        b.UseSetting("WIRETY_OIDC_CLIENT_ID", Idp.ClientId);
        b.UseSetting("WIRETY_OIDC_CLIENT_SECRET", Idp.ClientSecret);
        b.UseSetting("WIRETY_OIDC_AUDIENCE", Idp.Audience);
        b.UseSetting("WIRETY_OIDC_SCOPES", "openid profile email");
        b.UseSetting("WIRETY_OIDC_ROLE_MAP", RoleMap);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Idp is not null) await Idp.DisposeAsync();
    }

    /// <summary>What a browser ends with after the code flow: where Wirety sent it, and its client (holding the session cookie).</summary>
    public sealed record SignIn(HttpResponseMessage Final, HttpClient Wirety, string? SessionCookie);

    /// <summary>
    /// The whole authorization-code flow as a browser does it, with plain HTTP clients and no redirect following:
    /// Wirety's login → the provider's authorize → its login form (posted) → authorize again → Wirety's callback.
    /// </summary>
    public async Task<SignIn> SignInAsync(string username, string returnUrl = "/networks")
    {
        var wirety = BrowserClient();
        var login = await wirety.GetAsync("/api/v1/auth/oidc/login?returnUrl=" + Uri.EscapeDataString(returnUrl));
        Assert.True(login.StatusCode == HttpStatusCode.Redirect, $"login: {(int)login.StatusCode} {await login.Content.ReadAsStringAsync()}");
        var authorize = login.Headers.Location!;
        Assert.StartsWith(Idp.Issuer, authorize.AbsoluteUri);
        Assert.Contains("code_challenge=", authorize.Query);
        Assert.Contains("code_challenge_method=S256", authorize.Query);
        // response_mode=query is the default of the code flow, so the handler leaves it out (never form_post).
        Assert.DoesNotContain("response_mode=form_post", authorize.Query);

        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() });
        var toLogin = await browser.GetAsync(authorize);
        Assert.True(toLogin.StatusCode == HttpStatusCode.Redirect, $"authorize: {(int)toLogin.StatusCode} {await toLogin.Content.ReadAsStringAsync()}\n{Idp.Output}");
        var loginPage = new Uri(authorize, toLogin.Headers.Location!);
        var form = await browser.GetStringAsync(loginPage);
        Assert.Contains(">Sign in<", form);
        var providerReturn = Uri.UnescapeDataString(loginPage.OriginalString.Split("returnUrl=")[1]);
        var posted = await browser.PostAsync(new Uri(authorize, "/login"), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["username"] = username, ["password"] = "password", ["returnUrl"] = providerReturn,
        }));
        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        var back = await browser.GetAsync(new Uri(authorize, posted.Headers.Location!));
        Assert.Equal(HttpStatusCode.Redirect, back.StatusCode);
        var callback = back.Headers.Location!;
        Assert.Equal("/api/v1/auth/oidc/callback", callback.AbsolutePath);
        Assert.Contains("code=", callback.Query);

        var final = await wirety.GetAsync(callback.PathAndQuery);
        var cookie = final.Headers.TryGetValues("Set-Cookie", out var cookies)
            ? cookies.Select(c => Regex.Match(c, "^wirety_session=([^;]+)")).FirstOrDefault(m => m.Success)?.Groups[1].Value
            : null;
        return new SignIn(final, wirety, cookie);
    }
}

[CollectionDefinition(Name)]
public sealed class OidcCollection : ICollectionFixture<OidcApp>
{
    public const string Name = "oidc";
}

[Collection(OidcCollection.Name)]
public abstract class OidcTest(OidcApp app) : ApiTest(app)
{
    protected new OidcApp App { get; } = app;
}
