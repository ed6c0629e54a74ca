using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Wirety.Testing;

namespace Wirety.Tests.Api.Auth;

/// <summary>One provider process for the class: starting it costs seconds.</summary>
public sealed class IdentityProviderFixture : IAsyncLifetime
{
    public const string RedirectUri = "http://127.0.0.1:9/api/v1/auth/oidc/callback";
    public IdentityProviderProcess Idp { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Idp = await IdentityProviderProcess.StartAsync(new IdentityProviderOptions([RedirectUri], AutomationGroups: ["wirety-admins"]));

    public async Task DisposeAsync() => await Idp.DisposeAsync();
}

/// <summary>
/// The test identity provider (tests/Wirety.Tests.IdP) as the OIDC tests use it: a real process that publishes its
/// discovery document and keys, issues plain RS256 JWT access tokens to the automation client, and runs the code flow
/// with PKCE through its login form.
/// </summary>
public sealed class IdentityProviderTests(IdentityProviderFixture fixture) : IClassFixture<IdentityProviderFixture>
{
    private IdentityProviderProcess Idp => fixture.Idp;

    [Fact]
    public async Task the_automation_client_gets_a_signed_jwt_for_the_audience_with_its_groups()
    {
        using var http = new HttpClient();
        var discovery = await JsonAsync(await http.GetAsync(Idp.Issuer + ".well-known/openid-configuration"));
        Assert.Equal(Idp.Issuer, discovery.GetProperty("issuer").GetString());
        Assert.Contains("S256", discovery.GetProperty("code_challenge_methods_supported").EnumerateArray().Select(e => e.GetString()));

        var token = await Idp.ClientCredentialsTokenAsync();

        var (header, payload) = await VerifiedJwtAsync(http, discovery, token);
        Assert.Equal("RS256", header.GetProperty("alg").GetString());
        Assert.Equal(Idp.Audience, payload.GetProperty("aud").GetString());
        Assert.Equal(Idp.AutomationClientId, payload.GetProperty("sub").GetString());
        Assert.Equal(Idp.Issuer, payload.GetProperty("iss").GetString());
        Assert.Equal(["wirety-admins"], Strings(payload.GetProperty("groups")));
    }

    [Fact]
    public async Task the_code_flow_with_pkce_signs_alice_in_through_the_login_form()
    {
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() })
        {
            BaseAddress = new Uri(Idp.Issuer),
        };
        var discovery = await JsonAsync(await browser.GetAsync(".well-known/openid-configuration"));
        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        var challenge = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var authorize = discovery.GetProperty("authorization_endpoint").GetString() + "?" + Query(new()
        {
            ["client_id"] = Idp.ClientId, ["redirect_uri"] = IdentityProviderFixture.RedirectUri, ["response_type"] = "code",
            ["response_mode"] = "query", ["scope"] = "openid profile email offline_access", ["state"] = "st-1", ["nonce"] = "n-1",
            ["code_challenge"] = challenge, ["code_challenge_method"] = "S256",
        });

        // PKCE is required: without a code challenge the provider refuses the request outright.
        var withoutPkce = await browser.GetAsync(authorize.Replace("code_challenge=", "no_challenge="));
        Assert.Equal(HttpStatusCode.BadRequest, withoutPkce.StatusCode);
        Assert.Contains("code_challenge", await withoutPkce.Content.ReadAsStringAsync());

        // No login cookie yet: the provider asks for credentials.
        var toLogin = await browser.GetAsync(authorize);
        Assert.Equal(HttpStatusCode.Redirect, toLogin.StatusCode);
        var loginPage = await browser.GetAsync(toLogin.Headers.Location);
        var form = await loginPage.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, loginPage.StatusCode);
        foreach (var text in new[] { ">Username<", ">Password<", ">Sign in<" }) Assert.Contains(text, form);
        var returnUrl = Uri.UnescapeDataString(toLogin.Headers.Location!.OriginalString.Split("returnUrl=")[1]);

        var wrong = await browser.PostAsync("/login", Form(new() { ["username"] = "alice", ["password"] = "nope", ["returnUrl"] = returnUrl }));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);

        var signedIn = await browser.PostAsync("/login", Form(new() { ["username"] = "alice", ["password"] = "password", ["returnUrl"] = returnUrl }));
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var back = await browser.GetAsync(signedIn.Headers.Location);
        Assert.Equal(HttpStatusCode.Redirect, back.StatusCode);
        var callback = back.Headers.Location!;
        Assert.StartsWith(IdentityProviderFixture.RedirectUri + "?", callback.AbsoluteUri);
        var parameters = callback.Query.TrimStart('?').Split('&').Select(p => p.Split('=', 2))
            .ToDictionary(p => p[0], p => Uri.UnescapeDataString(p[1]));
        Assert.Equal("st-1", parameters["state"]);

        using var tokenRequest = new HttpRequestMessage(HttpMethod.Post, discovery.GetProperty("token_endpoint").GetString())
        {
            Content = Form(new()
            {
                ["grant_type"] = "authorization_code", ["code"] = parameters["code"],
                ["redirect_uri"] = IdentityProviderFixture.RedirectUri, ["code_verifier"] = verifier,
            }),
        };
        tokenRequest.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Idp.ClientId}:{Idp.ClientSecret}")));
        var tokens = await JsonAsync(await browser.SendAsync(tokenRequest));

        var (_, id) = await VerifiedJwtAsync(browser, discovery, tokens.GetProperty("id_token").GetString()!);
        Assert.Equal("u-alice", id.GetProperty("sub").GetString());
        Assert.Equal("Alice Admin", id.GetProperty("name").GetString());
        Assert.Equal("alice@corp.example", id.GetProperty("email").GetString());
        Assert.Equal("n-1", id.GetProperty("nonce").GetString());
        Assert.Equal(["wirety-admins"], Strings(id.GetProperty("groups")));
        var (_, access) = await VerifiedJwtAsync(browser, discovery, tokens.GetProperty("access_token").GetString()!);
        Assert.Equal("u-alice", access.GetProperty("sub").GetString());
        Assert.Equal(Idp.Audience, access.GetProperty("aud").GetString());
        Assert.True(tokens.TryGetProperty("refresh_token", out _), "offline_access yields a refresh token");
    }

    /// <summary>A JWS whose RS256 signature verifies against a key of the provider's JWKS: its header and payload.</summary>
    private static async Task<(JsonElement Header, JsonElement Payload)> VerifiedJwtAsync(HttpClient http, JsonElement discovery, string jwt)
    {
        var parts = jwt.Split('.');
        Assert.Equal(3, parts.Length);
        var header = JsonDocument.Parse(FromBase64Url(parts[0])).RootElement;
        Assert.Equal("RS256", header.GetProperty("alg").GetString());
        var keys = await JsonAsync(await http.GetAsync(discovery.GetProperty("jwks_uri").GetString()));
        var key = keys.GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("kid").GetString() == header.GetProperty("kid").GetString());
        using var rsa = RSA.Create(new RSAParameters
        {
            Modulus = FromBase64Url(key.GetProperty("n").GetString()!), Exponent = FromBase64Url(key.GetProperty("e").GetString()!),
        });
        Assert.True(rsa.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), FromBase64Url(parts[2]),
            HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1), "the signature verifies against the JWKS");
        return (header, JsonDocument.Parse(FromBase64Url(parts[1])).RootElement);
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement;
    }

    private static string[] Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToArray();

    private static FormUrlEncodedContent Form(Dictionary<string, string> fields) => new(fields);

    private static string Query(Dictionary<string, string> fields) =>
        string.Join('&', fields.Select(f => $"{Uri.EscapeDataString(f.Key)}={Uri.EscapeDataString(f.Value)}"));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string s)
    {
        s = s.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s + new string('=', (4 - s.Length % 4) % 4));
    }
}
