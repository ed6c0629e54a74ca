using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Marten;
using Wirety.Events.Tokens;
using Wirety.Events.Users;
using Wirety.Projections.Users;

namespace Wirety.Tests.Api.Auth;

/// <summary>
/// Single sign-on end to end against the real test identity provider (a separate OpenIddict process): the UI's code
/// flow with PKCE through the provider's login form, the provider's JWT access tokens on the API, disabled users,
/// same-e-mail accounts, the role map, and no provider secret or token in any event, document or log line.
/// </summary>
public sealed class OidcSignInTests(OidcApp app) : OidcTest(app)
{
    private async Task<User> UserAsync(string subject)
    {
        await using var session = App.Store.QuerySession();
        return await session.Query<User>().SingleAsync(u => u.Subject == subject);
    }

    private async Task<IReadOnlyList<object>> StreamAsync(Guid id)
    {
        await using var session = App.Store.QuerySession();
        return (await session.Events.FetchStreamAsync(id)).Select(e => e.Data).ToList();
    }

    [Fact]
    public async Task a_person_signs_in_through_the_provider_gets_a_session_and_no_role_until_an_admin_grants_one()
    {
        var signIn = await App.SignInAsync("bob", "/networks");
        Assert.Equal(HttpStatusCode.Redirect, signIn.Final.StatusCode);
        Assert.Equal("/networks", signIn.Final.Headers.Location!.OriginalString);
        Assert.NotNull(signIn.SessionCookie);

        var bob = await UserAsync("u-bob");
        Assert.Equal((App.Idp.Issuer, "bob@corp.example", "Bob Viewer", (ApiTokenRole?)null), (bob.Issuer, bob.Email, bob.Name, bob.Role));
        var signedIn = Assert.IsType<UserSignedIn>(Assert.Single(await StreamAsync(bob.Id)));
        Assert.Equal(SignInVia.Ui, signedIn.Via);

        // Signed in, but no role: 403 everywhere (bob's "staff" group is not in the role map).
        var forbidden = await AssertProblemAsync(await signIn.Wirety.GetAsync("/api/v1/networks"), 403);
        Assert.Contains("has no role yet", forbidden.GetProperty("detail").GetString());
        var roleless = await BodyAsync(await signIn.Wirety.GetAsync("/api/v1/me")); // the UI can still say who is signed in
        Assert.Equal(("user", JsonValueKind.Null, "Bob Viewer"),
            (roleless.GetProperty("kind").GetString(), roleless.GetProperty("role").ValueKind, roleless.GetProperty("name").GetString()));

        Assert.Equal(HttpStatusCode.OK, (await Admin.PatchAsJsonAsync($"/api/v1/users/{bob.Id}", new { role = "viewer" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await signIn.Wirety.GetAsync("/api/v1/networks")).StatusCode);
        var me = await BodyAsync(await signIn.Wirety.GetAsync("/api/v1/me"));
        Assert.Equal(bob.Id, me.GetProperty("id").GetGuid());
        Assert.Equal("viewer", me.GetProperty("role").GetString());
        // A viewer is not an admin.
        await AssertProblemAsync(await signIn.Wirety.GetAsync("/api/v1/users"), 403);
    }

    [Fact]
    public async Task a_disabled_user_is_refused_at_sign_in_and_loses_the_session_already_open()
    {
        var first = await App.SignInAsync("bob");
        var bob = await UserAsync("u-bob");
        await Admin.PatchAsJsonAsync($"/api/v1/users/{bob.Id}", new { role = "viewer" });
        Assert.Equal(HttpStatusCode.OK, (await first.Wirety.GetAsync("/api/v1/networks")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Admin.PatchAsJsonAsync($"/api/v1/users/{bob.Id}", new { disabled = true })).StatusCode);

        await AssertProblemAsync(await first.Wirety.GetAsync("/api/v1/networks"), 401);
        var before = await App.EventCountAsync();
        var again = await App.SignInAsync("bob");
        Assert.Equal(HttpStatusCode.Redirect, again.Final.StatusCode);
        Assert.Equal("/?signin=refused", again.Final.Headers.Location!.OriginalString);
        Assert.Null(again.SessionCookie);
        Assert.Equal(before, await App.EventCountAsync());
    }

    [Fact]
    public async Task a_second_account_with_the_same_email_is_another_user_and_the_role_map_is_recorded_as_events()
    {
        await App.SignInAsync("alice");
        var mallory = await App.SignInAsync("mallory");
        await App.SignInAsync("carol");
        var alice = await UserAsync("u-alice");
        var m = await UserAsync("u-mallory");
        Assert.NotEqual(alice.Id, m.Id);
        Assert.Equal(alice.Email, m.Email);
        Assert.Equal(ApiTokenRole.Admin, alice.Role);
        Assert.Null(m.Role);
        await AssertProblemAsync(await mallory.Wirety.GetAsync("/api/v1/networks"), 403);

        var grant = Assert.IsType<UserRoleGranted>((await StreamAsync(alice.Id))[1]);
        Assert.Equal((ApiTokenRole.Admin, GrantSource.RoleMap, (IReadOnlyList<Guid>?)null), (grant.Role, grant.Source, grant.NetworkIds));
        var carol = await UserAsync("u-carol");
        var scoped = Assert.IsType<UserRoleGranted>((await StreamAsync(carol.Id))[1]);
        Assert.Equal((ApiTokenRole.Analyst, GrantSource.RoleMap), (scoped.Role, scoped.Source));
        Assert.Equal([OidcApp.CorpOpsNetwork], scoped.NetworkIds!);

        // Signing in again with the same groups records the sign-in only.
        await App.SignInAsync("alice");
        Assert.Equal([typeof(UserSignedIn), typeof(UserRoleGranted), typeof(UserSignedIn)], (await StreamAsync(alice.Id)).Select(e => e.GetType()));
        // The admin the role map made can use the users API with the session.
        var list = await BodyAsync(await (await App.SignInAsync("alice")).Wirety.GetAsync("/api/v1/users"));
        Assert.Equal(3, list.GetArrayLength());
    }

    [Fact]
    public async Task a_provider_jwt_works_on_the_api_with_the_role_granted_to_its_user_and_stops_when_disabled()
    {
        var jwt = await App.Idp.ClientCredentialsTokenAsync();
        var client = App.Client(null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", jwt);

        await AssertProblemAsync(await client.GetAsync("/api/v1/networks"), 403);
        var user = await UserAsync(App.Idp.AutomationClientId);
        Assert.Equal(SignInVia.Jwt, Assert.IsType<UserSignedIn>(Assert.Single(await StreamAsync(user.Id))).Via);

        await Admin.PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { role = "admin" });
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/networks")).StatusCode);
        var created = await client.PostAsJsonAsync("/api/v1/networks", new { name = "by-jwt", cidr = "10.20.0.0/24" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        // The event names the person (the user id as the actor's id).
        await using (var session = App.Store.QuerySession())
        {
            var networkId = (await BodyAsync(created)).GetProperty("id").GetGuid();
            var made = (Wirety.Events.Networks.NetworkCreated)(await session.Events.FetchStreamAsync(networkId))[0].Data;
            Assert.Equal(user.Id, made.Actor.TokenId);
        }
        // Only the first contact is a sign-in event.
        Assert.Single((await StreamAsync(user.Id)).OfType<UserSignedIn>());
        // An admin may not lock himself out.
        await AssertRefusedAsync(() => client.PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { disabled = true }), 409);
        await AssertRefusedAsync(() => client.PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { role = "viewer" }), 409);

        await Admin.PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { disabled = true });
        var refused = await AssertProblemAsync(await client.GetAsync("/api/v1/networks"), 401);
        Assert.Contains("disabled", refused.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task a_person_granted_a_role_over_one_network_reaches_only_that_network()
    {
        var corp = (await BodyAsync(await Admin.PostAsJsonAsync("/api/v1/networks", new { name = "corp", cidr = "10.30.0.0/24" }))).GetProperty("id").GetGuid();
        var lab = (await BodyAsync(await Admin.PostAsJsonAsync("/api/v1/networks", new { name = "lab", cidr = "10.40.0.0/24" }))).GetProperty("id").GetGuid();
        var client = App.Client(null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await App.Idp.ClientCredentialsTokenAsync());
        await AssertProblemAsync(await client.GetAsync("/api/v1/networks"), 403);
        var user = await UserAsync(App.Idp.AutomationClientId);
        Assert.Equal(HttpStatusCode.OK, (await Admin.PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { role = "admin", networkIds = new[] { corp } })).StatusCode);

        Assert.Equal([corp], (await BodyAsync(await client.GetAsync("/api/v1/networks"))).EnumerateArray().Select(n => n.GetProperty("id").GetGuid()));
        var me = await BodyAsync(await client.GetAsync("/api/v1/me"));
        Assert.Equal(("user", "admin", corp), (me.GetProperty("kind").GetString(), me.GetProperty("role").GetString(), me.GetProperty("networkIds")[0].GetGuid()));
        Assert.Equal($"There is no network {lab}.",
            (await AssertRefusedAsync(() => client.PostAsJsonAsync($"/api/v1/networks/{lab}/peers", new { name = "x", kind = "static" }), 404)).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync($"/api/v1/networks/{corp}/peers", new { name = "x", kind = "static" })).StatusCode);
        await AssertRefusedAsync(() => client.GetAsync("/api/v1/users"), 403);
        await AssertRefusedAsync(() => client.PostAsJsonAsync("/api/v1/tokens", new { name = "wider", role = "admin" }), 403);
    }

    [Fact]
    public async Task garbage_bearers_callbacks_and_return_urls_get_no_5xx()
    {
        var client = App.Client(null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "aaa.bbb.ccc");
        await AssertProblemAsync(await client.GetAsync("/api/v1/networks"), 401);

        var callback = await App.BrowserClient().GetAsync("/api/v1/auth/oidc/callback?code=x&state=y");
        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        Assert.Equal("/?signin=failed", callback.Headers.Location!.OriginalString);

        var offsite = await App.SignInAsync("bob", "//evil.example/steal");
        Assert.Equal("/", offsite.Final.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task no_provider_secret_or_token_reaches_an_event_a_document_or_a_log_line()
    {
        await App.SignInAsync("alice");
        var jwt = await App.Idp.ClientCredentialsTokenAsync();
        var client = App.Client(null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", jwt);
        await client.GetAsync("/api/v1/networks");

        var stored = string.Join("\n", await App.AllStoredTextAsync());
        var logs = string.Join("\n", App.Logs);
        foreach (var secret in new[] { App.Idp.ClientSecret, App.Idp.AutomationClientSecret, jwt, jwt.Split('.')[2], "eyJ" })
        {
            Assert.DoesNotContain(secret, stored);
            Assert.DoesNotContain(secret, logs);
        }
    }
}
