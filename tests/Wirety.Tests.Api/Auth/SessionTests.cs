using System.Text.Json;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using Marten;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Wirety.Server.Auth;
using Wirety.Server.Auth.Oidc;
using Wirety.Server.Auth.Sessions;
using Wirety.Testing;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Auth;

/// <summary>
/// The UI session: an API token signs in once (POST /api/v1/auth/session) and the browser then holds only the
/// HttpOnly session cookie; writes need the session's CSRF header; sign-out, revocation and expiry end it.
/// </summary>
public sealed class SessionTests(WiretyApp app) : ApiTest(app)
{
    private const string Cookie = UiSessionCookie.Name;

    private sealed record Session(string Value, string CsrfToken, string SetCookie);

    /// <summary>Signs in with <paramref name="bearer"/>; the cookie's value and the CSRF token stored with it (as /api/v1/me gives it).</summary>
    private async Task<Session> SignInAsync(string bearer, bool https = false)
    {
        using var client = Plain(https);
        client.DefaultRequestHeaders.Authorization = new("Bearer", bearer);
        var response = await client.PostAsync("/api/v1/auth/session", null);
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        var setCookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith(Cookie + "=", setCookie);
        var value = setCookie[(Cookie.Length + 1)..].Split(';')[0];
        await using var db = App.Store.QuerySession();
        var stored = await db.LoadAsync<UiSession>(TokenSecrets.Hash(value));
        Assert.NotNull(stored);
        return new Session(value, stored.CsrfToken, setCookie);
    }

    /// <summary>A client that keeps no cookies and sends no credential of its own.</summary>
    private HttpClient Plain(bool https = false)
    {
        var client = new HttpClient(App.Server.CreateHandler()) { BaseAddress = new Uri(https ? "https://localhost/" : "http://localhost/") };
        return client;
    }

    private HttpClient WithCookie(string value, string? csrf = null)
    {
        var client = Plain();
        client.DefaultRequestHeaders.Add("Cookie", $"{Cookie}={value}");
        if (csrf is not null) client.DefaultRequestHeaders.Add(UiSessionCookie.CsrfHeader, csrf);
        return client;
    }

    [Fact]
    public async Task a_session_opened_with_a_network_limited_token_keeps_its_networks_and_me_hands_out_the_csrf_token()
    {
        var corp = (await CreateNetworkAsync("corp", "10.10.0.0/24")).GetProperty("id").GetGuid();
        var lab = (await CreateNetworkAsync("lab", "10.20.0.0/24")).GetProperty("id").GetGuid();
        var issued = await BodyAsync(await Admin.PostAsJsonAsync("/api/v1/tokens", new { name = "corp-ops", role = "admin", networkIds = new[] { corp } }));
        var session = await SignInAsync(issued.GetProperty("token").GetString()!);
        using var browser = WithCookie(session.Value);

        var me = await BodyAsync(await browser.GetAsync("/api/v1/me"));
        Assert.Equal([corp], me.GetProperty("networkIds").EnumerateArray().Select(e => e.GetGuid()));
        Assert.Equal(session.CsrfToken, me.GetProperty("csrfToken").GetString());
        Assert.Equal("token", me.GetProperty("kind").GetString());
        Assert.Equal([corp], (await BodyAsync(await browser.GetAsync("/api/v1/networks"))).EnumerateArray().Select(n => n.GetProperty("id").GetGuid()));
        var hidden = await AssertProblemAsync(await browser.GetAsync($"/api/v1/networks/{lab}"), 404);
        Assert.Equal($"There is no network {lab}.", hidden.GetProperty("detail").GetString());
        Assert.Equal(JsonValueKind.Null, (await BodyAsync(await Admin.GetAsync("/api/v1/me"))).GetProperty("csrfToken").ValueKind);
    }

    private async Task<(Guid Id, string Token)> IssueTokenAsync(string role, DateTimeOffset? expiresAt = null)
    {
        var response = await Admin.PostAsJsonAsync("/api/v1/tokens", new { name = role + "-ui", role, expiresAt });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await BodyAsync(response);
        return (body.GetProperty("id").GetGuid(), body.GetProperty("token").GetString()!);
    }

    private static Task<HttpResponseMessage> CreateNetworkWith(HttpClient client, string name = "ui-net") =>
        client.PostAsJsonAsync("/api/v1/networks", new { name, cidr = "10.77.0.0/24" });

    [Fact]
    public async Task token_sign_in_sets_an_http_only_same_site_strict_cookie_for_the_whole_site()
    {
        var session = await SignInAsync(WiretyApp.AdminToken);
        var attributes = session.SetCookie.Split(';', StringSplitOptions.TrimEntries).Skip(1).Select(a => a.ToLowerInvariant()).ToList();
        Assert.Contains("httponly", attributes);
        Assert.Contains("samesite=strict", attributes);
        Assert.Contains("path=/", attributes);
        Assert.DoesNotContain("secure", attributes); // plain HTTP: a Secure cookie would never come back
        Assert.Equal(43, session.Value.Length); // 256 random bits, base64url
        Assert.DoesNotContain(WiretyApp.AdminToken, session.SetCookie);
        // Bounded by the absolute lifetime (12 h by default), never longer.
        var expires = DateTimeOffset.Parse(attributes.Single(a => a.StartsWith("expires=", StringComparison.Ordinal))["expires=".Length..]);
        Assert.InRange(expires, App.Clock.GetUtcNow().AddHours(11), App.Clock.GetUtcNow().AddHours(12).AddMinutes(1));
    }

    [Fact]
    public async Task under_https_the_cookie_is_secure()
    {
        var session = await SignInAsync(WiretyApp.AdminToken, https: true);
        Assert.Contains("secure", session.SetCookie.Split(';', StringSplitOptions.TrimEntries).Select(a => a.ToLowerInvariant()));
    }

    [Fact]
    public async Task behind_a_trusted_load_balancer_that_terminates_tls_the_cookie_is_secure_and_websockets_must_come_from_https()
    {
        async Task<string> SetCookieVia(string remote)
        {
            using var client = Plain();
            client.DefaultRequestHeaders.Authorization = new("Bearer", WiretyApp.AdminToken);
            client.DefaultRequestHeaders.Add(TestRemoteAddress.Header, remote);
            client.DefaultRequestHeaders.Add(BrowserOrigin.ForwardedProtoHeader, "https");
            var response = await client.PostAsync("/api/v1/auth/session", null);
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            return Assert.Single(response.Headers.GetValues("Set-Cookie"));
        }
        static bool Secure(string setCookie) => setCookie.Split(';', StringSplitOptions.TrimEntries).Any(a => a.Equals("secure", StringComparison.OrdinalIgnoreCase));

        Assert.True(Secure(await SetCookieVia("10.255.0.1"))); // WiretyApp.TrustedProxies
        Assert.False(Secure(await SetCookieVia("192.0.2.7"))); // anyone else's X-Forwarded-Proto means nothing

        var session = await SignInAsync(WiretyApp.AdminToken);
        Task<WebSocket> ViaProxy(string origin)
        {
            var client = App.Server.CreateWebSocketClient();
            client.ConfigureRequest = r =>
            {
                r.Headers.Cookie = $"{Cookie}={session.Value}";
                r.Headers.Origin = origin;
                r.Headers[TestRemoteAddress.Header] = "10.255.0.1";
                r.Headers[BrowserOrigin.ForwardedProtoHeader] = "https";
            };
            return client.ConnectAsync(new Uri(App.Server.BaseAddress, "api/v1/ws"), CancellationToken.None);
        }
        Assert.Contains("403", (await Assert.ThrowsAnyAsync<Exception>(() => ViaProxy("http://localhost"))).Message);
        using var socket = await ViaProxy("https://localhost");
        await AssertReadyAsync(socket);
    }

    [Fact]
    public async Task the_cookie_alone_authenticates_reads_with_the_tokens_role()
    {
        var (_, viewerToken) = await IssueTokenAsync("viewer");
        var viewer = await SignInAsync(viewerToken);
        using var client = WithCookie(viewer.Value, viewer.CsrfToken);

        var me = await BodyAsync(await client.GetAsync("/api/v1/me"));
        Assert.Equal("viewer", me.GetProperty("role").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/networks")).StatusCode);
        // The token's role, not more: a viewer's session may not write, CSRF header or not.
        await AssertRefusedAsync(() => CreateNetworkWith(client), 403);
    }

    [Fact]
    public async Task a_cookie_write_needs_the_sessions_csrf_header_and_a_refused_one_appends_nothing()
    {
        var session = await SignInAsync(WiretyApp.AdminToken);

        using (var without = WithCookie(session.Value))
        {
            var refused = await AssertRefusedAsync(() => CreateNetworkWith(without), 403);
            Assert.Contains("X-Wirety-CSRF", refused.GetProperty("detail").GetString());
        }
        using (var wrong = WithCookie(session.Value, csrf: UiSessions.NewSecret()))
            await AssertRefusedAsync(() => CreateNetworkWith(wrong), 403);
        using (var empty = WithCookie(session.Value, csrf: ""))
            await AssertRefusedAsync(() => CreateNetworkWith(empty), 403);
        // Another session's CSRF token is no better.
        var other = await SignInAsync(WiretyApp.AdminToken);
        using (var crossed = WithCookie(session.Value, csrf: other.CsrfToken))
            await AssertRefusedAsync(() => CreateNetworkWith(crossed), 403);

        using var right = WithCookie(session.Value, session.CsrfToken);
        Assert.Equal(HttpStatusCode.Created, (await CreateNetworkWith(right)).StatusCode);
        Assert.Contains("ui-net", await (await Admin.GetAsync("/api/v1/networks")).Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task a_bearer_write_needs_no_csrf_header_even_with_a_cookie_beside_it()
    {
        var session = await SignInAsync(WiretyApp.AdminToken);
        using var client = WithCookie(session.Value);
        client.DefaultRequestHeaders.Authorization = new("Bearer", WiretyApp.AdminToken);
        Assert.Equal(HttpStatusCode.Created, (await CreateNetworkWith(client)).StatusCode);
    }

    [Fact]
    public async Task sign_out_ends_the_session_on_the_server_and_a_replayed_copy_of_the_cookie_is_refused()
    {
        var session = await SignInAsync(WiretyApp.AdminToken);
        using var client = WithCookie(session.Value, session.CsrfToken);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/networks")).StatusCode);

        // Sign-out is a write: without the header it is refused and the session lives on.
        using (var forged = WithCookie(session.Value))
            await AssertProblemAsync(await forged.PostAsync("/api/v1/auth/signout", null), 403);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/networks")).StatusCode);

        var signedOut = await client.PostAsync("/api/v1/auth/signout", null);
        Assert.Equal(HttpStatusCode.NoContent, signedOut.StatusCode);
        var cleared = Assert.Single(signedOut.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith(Cookie + "=;", cleared);
        Assert.Contains("expires=Thu, 01 Jan 1970", cleared, StringComparison.OrdinalIgnoreCase);

        var refused = await AssertProblemAsync(await client.GetAsync("/api/v1/networks"), 401);
        Assert.Contains("session", refused.GetProperty("detail").GetString());
        // A copy taken before sign-out, replayed from elsewhere: the server no longer knows it.
        using var replay = WithCookie(session.Value, session.CsrfToken);
        await AssertProblemAsync(await replay.GetAsync("/api/v1/me"), 401);
        await AssertRefusedAsync(() => CreateNetworkWith(replay), 401);
        await using var db = App.Store.QuerySession();
        Assert.Null(await db.LoadAsync<UiSession>(TokenSecrets.Hash(session.Value)));
    }

    [Fact]
    public async Task sign_out_of_a_bearer_caller_changes_nothing()
    {
        var session = await SignInAsync(WiretyApp.AdminToken);
        using var bearer = WithCookie(session.Value);
        bearer.DefaultRequestHeaders.Authorization = new("Bearer", WiretyApp.AdminToken);
        Assert.Equal(HttpStatusCode.NoContent, (await bearer.PostAsync("/api/v1/auth/signout", null)).StatusCode);
        using var client = WithCookie(session.Value);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/networks")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Admin.GetAsync("/api/v1/networks")).StatusCode);
    }

    [Fact]
    public async Task revoking_the_token_ends_its_sessions()
    {
        var (id, token) = await IssueTokenAsync("analyst");
        var session = await SignInAsync(token);
        using var client = WithCookie(session.Value);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/networks")).StatusCode);
        using var socket = await OpenLiveChannelAsync(session.Value, "http://localhost");
        await AssertReadyAsync(socket);

        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"/api/v1/tokens/{id}")).StatusCode);
        // The session's live channel is closed like the token's own (the revocation's change notice).
        await AssertClosedAsync(socket, "token revoked");
        // Refused at once: by the revoked token, or because the revoking instance already deleted the row.
        await AssertProblemAsync(await client.GetAsync("/api/v1/networks"), 401);
        await using var db = App.Store.QuerySession();
        Assert.Null(await db.LoadAsync<UiSession>(TokenSecrets.Hash(session.Value)));
    }

    [Fact]
    public async Task a_session_ends_with_its_token_lifetime_idle_timeout_and_absolute_lifetime()
    {
        var (_, shortLived) = await IssueTokenAsync("viewer", App.Clock.GetUtcNow().AddMinutes(30));
        var ofShortToken = await SignInAsync(shortLived);
        var idle = await SignInAsync(WiretyApp.AdminToken);
        var busy = await SignInAsync(WiretyApp.AdminToken);
        using var busyClient = WithCookie(busy.Value);

        // Busy: used every 50 minutes, it outlives the 1 h idle timeout ...
        for (var i = 0; i < 14; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await busyClient.GetAsync("/api/v1/networks")).StatusCode);
            App.Clock.Advance(TimeSpan.FromMinutes(50));
            if (i == 0)
            {
                using var tokenExpired = WithCookie(ofShortToken.Value);
                Assert.Contains("expired", (await AssertProblemAsync(await tokenExpired.GetAsync("/api/v1/networks"), 401)).GetProperty("detail").GetString());
            }
            if (i == 1)
            {
                using var idleClient = WithCookie(idle.Value);
                Assert.Contains("expired", (await AssertProblemAsync(await idleClient.GetAsync("/api/v1/networks"), 401)).GetProperty("detail").GetString());
            }
        }
        // 11 h 40 min in: still good; 12 h 5 min in (used 25 min ago), past the absolute lifetime.
        Assert.Equal(HttpStatusCode.OK, (await busyClient.GetAsync("/api/v1/networks")).StatusCode);
        App.Clock.Advance(TimeSpan.FromMinutes(25));
        Assert.Contains("expired", (await AssertProblemAsync(await busyClient.GetAsync("/api/v1/networks"), 401)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task the_sweep_deletes_lapsed_session_rows_only()
    {
        var lapsed = await SignInAsync(WiretyApp.AdminToken);
        App.Clock.Advance(TimeSpan.FromMinutes(61));
        var fresh = await SignInAsync(WiretyApp.AdminToken);
        Assert.Equal(1, await App.Services.GetRequiredService<UiSessions>().SweepAsync(CancellationToken.None));
        await using var db = App.Store.QuerySession();
        Assert.Null(await db.LoadAsync<UiSession>(TokenSecrets.Hash(lapsed.Value)));
        Assert.NotNull(await db.LoadAsync<UiSession>(TokenSecrets.Hash(fresh.Value)));
    }

    [Fact]
    public async Task an_unknown_or_malformed_cookie_gets_the_401_problem()
    {
        foreach (var value in new[] { UiSessions.NewSecret(), "x", new string('a', 4000), "%00%ff" })
        {
            using var client = WithCookie(value);
            await AssertProblemAsync(await client.GetAsync("/api/v1/networks"), 401);
            await AssertRefusedAsync(() => CreateNetworkWith(client), 401);
        }
        // No credential at all is still the API token scheme's answer.
        using var none = Plain();
        Assert.Contains("API token is required", (await AssertProblemAsync(await none.GetAsync("/api/v1/networks"), 401)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task only_an_api_token_signs_in()
    {
        var session = await SignInAsync(WiretyApp.AdminToken);
        using var cookie = WithCookie(session.Value, session.CsrfToken);
        await AssertProblemAsync(await cookie.PostAsync("/api/v1/auth/session", null), 400);
        using var none = Plain();
        await AssertProblemAsync(await none.PostAsync("/api/v1/auth/session", null), 401);
        using var bogus = Plain();
        bogus.DefaultRequestHeaders.Authorization = new("Bearer", "wirety_not-a-token-that-exists-anywhere-0000000000");
        await AssertProblemAsync(await bogus.PostAsync("/api/v1/auth/session", null), 401);
    }

    [Fact]
    public async Task the_cookie_value_never_reaches_an_event_a_stored_row_or_a_log_line()
    {
        var session = await SignInAsync(WiretyApp.AdminToken);
        using var client = WithCookie(session.Value, session.CsrfToken);
        Assert.Equal(HttpStatusCode.Created, (await CreateNetworkWith(client)).StatusCode);
        using (var without = WithCookie(session.Value)) await AssertProblemAsync(await CreateNetworkWith(without, "other"), 403);
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync("/api/v1/auth/signout", null)).StatusCode);
        await AssertProblemAsync(await client.GetAsync("/api/v1/networks"), 401);

        Assert.NotEmpty(App.Logs);
        Assert.DoesNotContain(App.Logs, line => line.Contains(session.Value, StringComparison.Ordinal));
        Assert.DoesNotContain(App.Logs, line => line.Contains(session.CsrfToken, StringComparison.Ordinal));
        var stored = await App.AllStoredTextAsync();
        Assert.NotEmpty(stored);
        Assert.DoesNotContain(stored, row => row.Contains(session.Value, StringComparison.Ordinal));
    }

    [Fact]
    public async Task a_live_channel_opened_with_the_cookie_must_come_from_the_servers_own_origin()
    {
        var session = await SignInAsync(WiretyApp.AdminToken);
        Task<WebSocket> Open(string? origin) => OpenLiveChannelAsync(session.Value, origin);

        foreach (var foreign in new[] { "https://evil.example", "http://localhost.evil.example", "null", "https://localhost" })
            Assert.Contains("403", (await Assert.ThrowsAnyAsync<Exception>(() => Open(foreign))).Message);
        Assert.Contains("403", (await Assert.ThrowsAnyAsync<Exception>(() => Open(null))).Message);

        using var socket = await Open("http://localhost");
        await AssertReadyAsync(socket);
    }

    [Fact]
    public async Task a_live_channel_opened_with_the_cookie_closes_when_the_session_reaches_its_lifetime()
    {
        var session = await SignInAsync(WiretyApp.AdminToken);
        using var socket = await OpenLiveChannelAsync(session.Value, "http://localhost");
        await AssertReadyAsync(socket);
        App.Clock.Advance(TimeSpan.FromHours(12) + TimeSpan.FromMinutes(1));
        await AssertClosedAsync(socket, "token expired");
    }

    [Fact]
    public async Task sign_out_closes_the_sessions_live_channels_here_and_on_other_instances()
    {
        var here = await SignInAsync(WiretyApp.AdminToken);
        var elsewhere = await SignInAsync(WiretyApp.AdminToken);
        using var socket = await OpenLiveChannelAsync(here.Value, "http://localhost");
        using var other = await OpenLiveChannelAsync(elsewhere.Value, "http://localhost");
        await AssertReadyAsync(socket);
        await AssertReadyAsync(other);

        using var client = WithCookie(here.Value, here.CsrfToken);
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync("/api/v1/auth/signout", null)).StatusCode);
        await AssertClosedAsync(socket, "signed out");

        // Another instance's sign-out is the row gone from the shared database.
        await using (var db = App.Store.LightweightSession())
        {
            db.Delete<UiSession>(TokenSecrets.Hash(elsewhere.Value));
            await db.SaveChangesAsync();
        }
        await AssertClosedAsync(other, "session ended");
    }

    private Task<WebSocket> OpenLiveChannelAsync(string cookie, string? origin)
    {
        var client = App.Server.CreateWebSocketClient();
        client.ConfigureRequest = r =>
        {
            r.Headers.Cookie = $"{Cookie}={cookie}";
            if (origin is not null) r.Headers.Origin = origin;
        };
        return client.ConnectAsync(new Uri(App.Server.BaseAddress, "api/v1/ws"), CancellationToken.None);
    }

    private static async Task AssertReadyAsync(WebSocket socket)
    {
        var buffer = new byte[8192];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var first = await socket.ReceiveAsync(buffer, timeout.Token);
        Assert.Contains("\"ready\"", Encoding.UTF8.GetString(buffer, 0, first.Count));
    }

    /// <summary>Reads until the server's close (skipping notices) and checks it is 1008 with the reason.</summary>
    private static async Task AssertClosedAsync(WebSocket socket, string reason)
    {
        var buffer = new byte[16384];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while ((await socket.ReceiveAsync(buffer, timeout.Token)).MessageType != WebSocketMessageType.Close) { }
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, socket.CloseStatus);
        Assert.Equal(reason, socket.CloseStatusDescription);
    }

    [Fact]
    public async Task auth_config_says_whether_identity_provider_sign_in_is_offered()
    {
        var body = await BodyAsync(await Plain().GetAsync("/api/v1/auth/config"));
        Assert.False(body.GetProperty("oidc").GetBoolean());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, body.GetProperty("providerName").ValueKind);
    }

    [Fact]
    public void oidc_settings_come_from_the_section_and_the_wirety_oidc_variables_win()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Wirety:Oidc:Issuer"] = "https://section.example", ["Wirety:Oidc:ClientId"] = "from-section",
            ["WIRETY_OIDC_CLIENT_ID"] = "wirety-ui", ["WIRETY_OIDC_PROVIDER_NAME"] = "Corp SSO",
            ["WIRETY_OIDC_SCOPES"] = "openid, profile groups",
        }).Build();
        var o = new OidcOptions();
        config.GetSection(OidcOptions.Section).Bind(o);
        OidcOptions.ApplyEnvironment(o, config);
        Assert.True(o.Enabled);
        Assert.Equal(("https://section.example", "wirety-ui", "Corp SSO"), (o.Issuer, o.ClientId, o.ProviderName));
        Assert.Equal(["openid", "profile", "groups"], o.ScopeList);
        Assert.False(new OidcOptions { Issuer = "https://x.example" }.Enabled);
    }
}
