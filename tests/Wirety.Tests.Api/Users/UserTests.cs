using System.Net;
using System.Text.Json;
using System.Net.Http.Json;
using System.Security.Claims;
using Marten;
using Wirety.Events.Tokens;
using Wirety.Events.Users;
using Wirety.Projections.Users;
using Wirety.Server.Auth;
using Wirety.Server.Auth.Oidc;
using Wirety.Server.Users;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Users;

/// <summary>
/// The users API over HTTP (admin token), with users created the way a sign-in creates them (<see cref="SignInUser"/>),
/// so no identity provider is needed here; the sign-in flows themselves are in Auth/OidcSignInTests.
/// </summary>
public sealed class UserTests(WiretyApp app) : ApiTest(app)
{
    private const string Issuer = "https://idp.corp.example/";

    private Task<SignInDecision> SignInAsync(string sub, string? email, string name, IReadOnlyList<string>? groups = null, string via = SignInVia.Ui, RoleMap? map = null) =>
        SignInUser.RunAsync(App.Store, new ProviderIdentity(Issuer, sub, email, name, groups), via, map, App.Clock, CancellationToken.None);

    private async Task<IReadOnlyList<object>> StreamAsync(Guid userId)
    {
        await using var session = App.Store.QuerySession();
        return (await session.Events.FetchStreamAsync(userId)).Select(e => e.Data).ToList();
    }

    [Fact]
    public async Task users_are_listed_and_a_same_email_account_with_another_subject_is_another_user()
    {
        Assert.Empty((await BodyAsync(await Admin.GetAsync("/api/v1/users"))).EnumerateArray());
        var alice = (await SignInAsync("u-alice", "alice@corp.example", "Alice")).User!;
        var mallory = (await SignInAsync("u-mallory", "alice@corp.example", "Mallory")).User!;
        var again = (await SignInAsync("u-alice", "alice@corp.example", "Alice A.")).User!;

        Assert.NotEqual(alice.Id, mallory.Id);
        Assert.Equal(alice.Id, again.Id);
        Assert.Equal(7, alice.Id.Version);
        var list = (await BodyAsync(await Admin.GetAsync("/api/v1/users"))).EnumerateArray().ToList();
        Assert.Equal(2, list.Count);
        Assert.All(list, u => Assert.Equal("alice@corp.example", u.GetProperty("email").GetString()));
        var first = list.Single(u => u.GetProperty("id").GetGuid() == alice.Id);
        Assert.Equal("Alice A.", first.GetProperty("name").GetString());
        Assert.Equal("u-alice", first.GetProperty("subject").GetString());
        Assert.Equal(Issuer, first.GetProperty("issuer").GetString());
        Assert.Equal(JsonValueKind.Null, first.GetProperty("role").ValueKind);
        Assert.Equal(JsonValueKind.Null, first.GetProperty("networkIds").ValueKind);
        Assert.False(first.GetProperty("disabled").GetBoolean());
        Assert.Equal([typeof(UserSignedIn), typeof(UserSignedIn)], (await StreamAsync(alice.Id)).Select(e => e.GetType()));
        Assert.Single(await StreamAsync(mallory.Id));
    }

    [Fact]
    public async Task concurrent_first_sign_ins_of_one_identity_make_one_user()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => SignInAsync("u-race", null, "Racer"))));
        Assert.Single(results.Select(r => r.User!.Id).Distinct());
        await using var session = App.Store.QuerySession();
        var users = await session.Query<User>().Where(u => u.Subject == "u-race").ToListAsync();
        Assert.Single(users);
        Assert.Equal(8, (await StreamAsync(users[0].Id)).Count(e => e is UserSignedIn));
        await using var conn = new Npgsql.NpgsqlConnection(App.ConnectionString);
        await conn.OpenAsync();
        // The losers' streams were rolled back with their failed commits: one user stream, no orphan.
        await using var cmd = new Npgsql.NpgsqlCommand("select count(*) from wirety.mt_streams where type = 'user'", conn);
        Assert.Equal(1L, (long)(await cmd.ExecuteScalarAsync())!); // the bootstrap token's and the one user's: the losers rolled back
    }

    [Fact]
    public async Task an_admin_grants_scopes_revokes_disables_and_enables_and_each_change_is_one_event_with_the_actor()
    {
        var net = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        var user = (await SignInAsync("u-bob", "bob@corp.example", "Bob")).User!;

        var granted = await Admin.PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { role = "analyst", networkIds = new[] { net } });
        Assert.Equal(HttpStatusCode.OK, granted.StatusCode);
        var body = await BodyAsync(granted);
        Assert.Equal("analyst", body.GetProperty("role").GetString());
        Assert.Equal(net, body.GetProperty("networkIds")[0].GetGuid());

        // The same again changes nothing.
        var before = await App.EventCountAsync();
        Assert.Equal(HttpStatusCode.OK, (await Admin.PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { role = "analyst", networkIds = new[] { net } })).StatusCode);
        Assert.Equal(before, await App.EventCountAsync());

        await Admin.PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { role = "admin" }); // every network
        await Admin.PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { disabled = true });
        var got = await BodyAsync(await Admin.GetAsync($"/api/v1/users/{user.Id}"));
        Assert.Equal("admin", got.GetProperty("role").GetString());
        Assert.Equal(JsonValueKind.Null, got.GetProperty("networkIds").ValueKind);
        Assert.True(got.GetProperty("disabled").GetBoolean());
        await Admin.PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { role = "none", disabled = false });

        var events = await StreamAsync(user.Id);
        Assert.Equal([typeof(UserSignedIn), typeof(UserRoleGranted), typeof(UserRoleGranted), typeof(UserDisabled), typeof(UserRoleRevoked), typeof(UserEnabled)],
            events.Select(e => e.GetType()));
        var grant = (UserRoleGranted)events[1];
        Assert.Equal((ApiTokenRole.Analyst, GrantSource.Admin, "bootstrap-admin"), (grant.Role, grant.Source, grant.Actor.Name));
        Assert.Equal(AdminBootstrap.BootstrapTokenId, grant.Actor.TokenId);
        Assert.Equal(GrantSource.Admin, ((UserRoleRevoked)events[4]).Source);
        var final = await BodyAsync(await Admin.GetAsync($"/api/v1/users/{user.Id}"));
        Assert.Equal(JsonValueKind.Null, final.GetProperty("role").ValueKind);
        Assert.False(final.GetProperty("disabled").GetBoolean());
    }

    [Fact]
    public async Task at_answers_who_had_which_role_at_that_time()
    {
        var t0 = App.Clock.GetUtcNow();
        var user = (await SignInAsync("u-carol", null, "Carol")).User!;
        App.Clock.Advance(TimeSpan.FromDays(1));
        await Admin.PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { role = "admin" });
        var adminSince = App.Clock.GetUtcNow();
        App.Clock.Advance(TimeSpan.FromDays(1));
        await Admin.PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { role = "viewer" });

        async Task<string?> RoleAt(DateTimeOffset at)
        {
            var list = await BodyAsync(await Admin.GetAsync("/api/v1/users?at=" + Uri.EscapeDataString(at.ToString("O"))));
            var one = Assert.Single(list.EnumerateArray());
            return one.GetProperty("role").ValueKind == JsonValueKind.Null ? null : one.GetProperty("role").GetString();
        }

        Assert.Null(await RoleAt(t0.AddHours(1)));
        Assert.Equal("admin", await RoleAt(adminSince.AddHours(12)));
        Assert.Equal("viewer", await RoleAt(App.Clock.GetUtcNow()));
        Assert.Empty((await BodyAsync(await Admin.GetAsync("/api/v1/users?at=" + Uri.EscapeDataString(t0.AddDays(-1).ToString("O"))))).EnumerateArray());
        // A sequence number works too: 1 is the bootstrap token's event, before any user.
        Assert.Empty((await BodyAsync(await Admin.GetAsync("/api/v1/users?at=1"))).EnumerateArray());
        await AssertProblemAsync(await Admin.GetAsync("/api/v1/users?at=yesterday"), 400);
    }

    [Fact]
    public async Task bad_requests_are_4xx_problems_and_append_nothing()
    {
        var user = (await SignInAsync("u-dave", null, "Dave")).User!;
        var url = $"/api/v1/users/{user.Id}";
        await AssertRefusedAsync(() => Admin.GetAsync($"/api/v1/users/{Guid.Empty}"), 404);
        await AssertRefusedAsync(() => Admin.GetAsync($"/api/v1/users/{Guid.NewGuid()}"), 404);
        await AssertRefusedAsync(() => Admin.PatchAsJsonAsync($"/api/v1/users/{Guid.Empty}", new { role = "admin" }), 404);
        await AssertRefusedAsync(() => Admin.PatchAsJsonAsync($"/api/v1/users/{Guid.NewGuid()}", new { role = "admin" }), 404);
        await AssertRefusedAsync(() => Admin.PatchAsJsonAsync(url, new { role = "root" }), 400);
        await AssertRefusedAsync(() => Admin.PatchAsJsonAsync(url, new { role = "Admin" }), 400);
        await AssertRefusedAsync(() => Admin.PatchAsJsonAsync(url, new { role = "viewer", networkIds = Array.Empty<Guid>() }), 400);
        await AssertRefusedAsync(() => Admin.PatchAsJsonAsync(url, new { role = "viewer", networkIds = new[] { Guid.NewGuid() } }), 400);
        await AssertRefusedAsync(() => Admin.PatchAsJsonAsync(url, new { role = "viewer", networkIds = new[] { Guid.Empty } }), 400);
        await AssertRefusedAsync(() => Admin.PatchAsJsonAsync(url, new { role = "none", networkIds = new[] { Guid.NewGuid() } }), 400);
        await AssertRefusedAsync(() => Admin.PatchAsJsonAsync(url, new { networkIds = new[] { Guid.NewGuid() } }), 400);
        await AssertRefusedAsync(() => Admin.PatchAsJsonAsync(url, new { role = "viewer", rol = "admin" }), 400);
        await AssertRefusedAsync(() => Admin.PatchAsJsonAsync(url, new { disabled = "yes" }), 400);
        await AssertRefusedAsync(() => Admin.PatchAsync(url, new StringContent("{", System.Text.Encoding.UTF8, "application/json")), 400);
        await AssertRefusedAsync(() => Admin.PatchAsync(url, new StringContent("null", System.Text.Encoding.UTF8, "application/json")), 400);
    }

    [Fact]
    public async Task only_global_admins_reach_the_users_endpoints()
    {
        var user = (await SignInAsync("u-erin", null, "Erin")).User!;
        var viewer = await BodyAsync(await Admin.PostAsJsonAsync("/api/v1/tokens", new { name = "v", role = "viewer" }));
        var client = App.Client(viewer.GetProperty("token").GetString());
        await AssertRefusedAsync(() => client.GetAsync("/api/v1/users"), 403);
        await AssertRefusedAsync(() => client.GetAsync($"/api/v1/users/{user.Id}"), 403);
        await AssertRefusedAsync(() => client.PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { role = "admin" }), 403);
        await AssertProblemAsync(await App.Client(null).GetAsync("/api/v1/users"), 401);
    }

    [Fact]
    public void an_admin_may_not_disable_or_demote_himself()
    {
        var self = new User
        {
            Id = Guid.CreateVersion7(), Issuer = Issuer, Subject = "u-self", IdentityKey = User.KeyOf(Issuer, "u-self"), Name = "Self",
            Role = ApiTokenRole.Admin, GrantSource = GrantSource.Admin,
        };
        var caller = new ClaimsPrincipal(SessionUsersIdentity(self));
        var none = new Wirety.Server.Networks.ExistingNetworks(new HashSet<Guid> { OidcAppNetwork });
        foreach (var request in new UpdateUserRequest[] { new(null, null, true), new("viewer", null, null), new("none", null, null), new("admin", [OidcAppNetwork], null) })
            Assert.Equal(409, UpdateUser.Validate(request, self, self.Id, none, caller).Status);
        Assert.Same(Wirety.Server.Problems.ApiProblems.None, UpdateUser.Validate(new("admin", null, false), self, self.Id, none, caller));
        // Another admin may.
        var other = self with { Id = Guid.CreateVersion7() };
        Assert.Same(Wirety.Server.Problems.ApiProblems.None, UpdateUser.Validate(new(null, null, true), other, other.Id, none, caller));
    }

    private static readonly Guid OidcAppNetwork = Guid.CreateVersion7();

    private static ClaimsIdentity SessionUsersIdentity(User user)
    {
        var identity = SessionUsers.IdentityOf(user);
        identity.AddClaim(new Claim(NetworkScope.KindClaim, NetworkScope.UserKind));
        return identity;
    }
}
