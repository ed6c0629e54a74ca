using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using Marten;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Wirety.Server.Auth;
using Wirety.Server.Auth.Sessions;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Auth;

/// <summary>A server with an <see cref="ISessionUsers"/> whose people the tests set (stands in for helper "users"' OIDC users).</summary>
public sealed class SessionUsersApp : WiretyApp
{
    public ConcurrentDictionary<Guid, ClaimsIdentity> Users { get; } = new();

    protected override void Configure(IWebHostBuilder b) =>
        b.ConfigureServices(s => s.AddSingleton<ISessionUsers>(new Directory(Users)));

    private sealed class Directory(ConcurrentDictionary<Guid, ClaimsIdentity> users) : ISessionUsers
    {
        public Task<ClaimsIdentity?> IdentityAsync(Guid userId, CancellationToken ct) =>
            Task.FromResult(users.TryGetValue(userId, out var identity) ? identity : null);
    }
}

[CollectionDefinition(Name)]
public sealed class SessionUsersCollection : ICollectionFixture<SessionUsersApp>
{
    public const string Name = "session-users";
}

/// <summary>Sessions of kind user: the person's identity comes from <see cref="ISessionUsers"/> on every request.</summary>
[Collection(SessionUsersCollection.Name)]
public sealed class UserSessionTests(SessionUsersApp app) : ApiTest(app)
{
    private SessionUsersApp Users => (SessionUsersApp)App;

    /// <summary>What the OIDC callback does: <see cref="UiSessions.StartAsync"/> for the user; the cookie it sets.</summary>
    private async Task<(string Cookie, string Csrf)> StartAsync(Guid userId)
    {
        var http = new DefaultHttpContext { RequestServices = App.Services };
        await App.Services.GetRequiredService<UiSessions>().StartAsync(http, NetworkScope.UserKind, userId, CancellationToken.None);
        var setCookie = http.Response.Headers.SetCookie.ToString();
        var value = setCookie[(UiSessionCookie.Name.Length + 1)..].Split(';')[0];
        await using var db = App.Store.QuerySession();
        return (value, (await db.LoadAsync<UiSession>(TokenSecrets.Hash(value)))!.CsrfToken);
    }

    private HttpClient WithCookie(string value, string? csrf = null)
    {
        var client = new HttpClient(App.Server.CreateHandler()) { BaseAddress = new Uri("http://localhost/") };
        client.DefaultRequestHeaders.Add("Cookie", $"{UiSessionCookie.Name}={value}");
        if (csrf is not null) client.DefaultRequestHeaders.Add(UiSessionCookie.CsrfHeader, csrf);
        return client;
    }

    private static ClaimsIdentity Person(Guid id, string name, string? role, params Guid[] networks)
    {
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, id.ToString()), new Claim(ClaimTypes.Name, name)], "test");
        if (role is not null) identity.AddClaim(new Claim(RoleRequirementHandler.RoleClaim, role));
        identity.AddClaims(NetworkScope.ClaimsFor(networks.Length == 0 ? null : networks));
        return identity;
    }

    [Fact]
    public async Task a_user_session_acts_with_the_users_current_role()
    {
        var id = Guid.NewGuid();
        Users.Users[id] = Person(id, "Ada", "admin");
        var (cookie, csrf) = await StartAsync(id);
        using var client = WithCookie(cookie, csrf);
        var me = await BodyAsync(await client.GetAsync("/api/v1/me"));
        Assert.Equal("admin", me.GetProperty("role").GetString());
        Assert.Equal("Ada", me.GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/v1/networks", new { name = "ada-net", cidr = "10.88.0.0/24" })).StatusCode);

        // The grant changes: the next request has the new role.
        Users.Users[id] = Person(id, "Ada", "viewer");
        await AssertRefusedAsync(() => client.PostAsJsonAsync("/api/v1/networks", new { name = "again", cidr = "10.89.0.0/24" }), 403);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/networks")).StatusCode);
    }

    [Fact]
    public async Task a_disabled_or_unknown_user_ends_the_session()
    {
        var id = Guid.NewGuid();
        Users.Users[id] = Person(id, "Bob", "viewer");
        var (cookie, _) = await StartAsync(id);
        using var client = WithCookie(cookie);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/networks")).StatusCode);

        Users.Users.TryRemove(id, out _);
        await AssertProblemAsync(await client.GetAsync("/api/v1/networks"), 401);
        Users.Users[id] = Person(id, "Bob", "viewer"); // back again: that session is gone for good
        await AssertProblemAsync(await client.GetAsync("/api/v1/networks"), 401);
        await using var db = App.Store.QuerySession();
        Assert.Null(await db.LoadAsync<UiSession>(TokenSecrets.Hash(cookie)));
    }

    [Fact]
    public async Task a_person_without_a_role_yet_is_refused_everywhere_but_can_sign_out()
    {
        var id = Guid.NewGuid();
        Users.Users[id] = Person(id, "Eve", role: null);
        var (cookie, csrf) = await StartAsync(id);
        using var client = WithCookie(cookie, csrf);
        await AssertProblemAsync(await client.GetAsync("/api/v1/networks"), 403);
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync("/api/v1/auth/signout", null)).StatusCode);
        await AssertProblemAsync(await client.GetAsync("/api/v1/networks"), 401);
    }

    [Fact]
    public async Task the_session_principal_carries_the_users_network_scope_and_the_contract_claims()
    {
        var (id, network) = (Guid.NewGuid(), Guid.NewGuid());
        Users.Users[id] = Person(id, "Sam", "viewer", network);
        var (cookie, csrf) = await StartAsync(id);
        await using var scope = App.Services.CreateAsyncScope();
        var http = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        http.Request.Headers.Cookie = $"{UiSessionCookie.Name}={cookie}";
        var result = await Microsoft.AspNetCore.Authentication.AuthenticationHttpContextExtensions.AuthenticateAsync(http, WiretyIdentity.SchemeName);
        Assert.True(result.Succeeded, result.Failure?.Message);
        var user = result.Principal!;
        Assert.Equal(NetworkScope.UserKind, user.FindFirstValue(NetworkScope.KindClaim));
        Assert.Equal(csrf, user.FindFirstValue(UiSessionCookie.CsrfClaim));
        Assert.Equal([network], NetworkScope.NetworksOf(user)!);
        Assert.Equal(id.ToString(), user.FindFirstValue(ClaimTypes.NameIdentifier));
        Assert.Single(user.FindAll(NetworkScope.KindClaim));
    }
}
