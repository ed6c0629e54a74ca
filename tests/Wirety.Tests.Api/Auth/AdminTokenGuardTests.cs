using System.Net;
using System.Net.Http.Json;
using Marten;
using Wirety.Events.Tokens;
using Wirety.Projections.Tokens;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Auth;

/// <summary>The guard that keeps one usable admin token: it counts admin tokens only, and it holds under a race.</summary>
public sealed class AdminTokenGuardTests(WiretyApp app) : ApiTest(app)
{
    private async Task<(string Id, string Value)> IssueAsync(string name, string role)
    {
        var body = await BodyAsync(await Admin.PostAsJsonAsync("/api/v1/tokens", new { name, role }));
        return (body.GetProperty("id").GetString()!, body.GetProperty("token").GetString()!);
    }

    private async Task<string> BootstrapIdAsync() =>
        (await BodyAsync(await Admin.GetAsync("/api/v1/tokens"))).EnumerateArray().Single().GetProperty("id").GetString()!;

    [Fact]
    public async Task a_usable_viewer_token_does_not_let_the_last_admin_token_go()
    {
        var bootstrap = await BootstrapIdAsync();
        await IssueAsync("dashboards", "viewer");
        await IssueAsync("analysis", "analyst");
        var problem = await AssertRefusedAsync(() => Admin.DeleteAsync($"/api/v1/tokens/{bootstrap}"), 409);
        Assert.Contains("admin", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task an_admin_token_limited_to_a_network_does_not_count_as_the_one_left_and_can_go()
    {
        var bootstrap = await BootstrapIdAsync();
        var net = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        var scoped = await BodyAsync(await Admin.PostAsJsonAsync("/api/v1/tokens", new { name = "corp-admin", role = "admin", networkIds = new[] { net } }));
        await AssertRefusedAsync(() => Admin.DeleteAsync($"/api/v1/tokens/{bootstrap}"), 409);
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"/api/v1/tokens/{scoped.GetProperty("id").GetString()}")).StatusCode);
    }

    [Fact]
    public async Task the_last_viewer_token_can_be_revoked_while_an_admin_token_remains()
    {
        var (viewer, _) = await IssueAsync("dashboards", "viewer");
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"/api/v1/tokens/{viewer}")).StatusCode);
    }

    [Fact]
    public async Task an_expired_admin_token_does_not_count_as_the_one_left()
    {
        var bootstrap = await BootstrapIdAsync();
        var body = await BodyAsync(await Admin.PostAsJsonAsync("/api/v1/tokens",
            new { name = "short", role = "admin", expiresAt = App.Clock.GetUtcNow().AddMinutes(10) }));
        App.Clock.Advance(TimeSpan.FromMinutes(11));
        await AssertRefusedAsync(() => Admin.DeleteAsync($"/api/v1/tokens/{bootstrap}"), 409);
        // Revoking the expired one changes nothing about who can still administer: allowed.
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"/api/v1/tokens/{body.GetProperty("id").GetString()}")).StatusCode);
    }

    [Fact]
    public async Task two_admins_revoking_each_other_at_once_leave_one_admin_token()
    {
        // Repeated, because a race that is lost only sometimes must be won every time.
        for (var round = 0; round < 10; round++)
        {
            await App.ResetAsync();
            var bootstrap = await BootstrapIdAsync();
            var (second, secondValue) = await IssueAsync("second-admin", "admin");
            var bootstrapClient = Admin;
            var secondClient = App.Client(secondValue);

            var both = await Task.WhenAll(
                bootstrapClient.DeleteAsync($"/api/v1/tokens/{second}"),
                secondClient.DeleteAsync($"/api/v1/tokens/{bootstrap}"));

            // One revocation wins; the other is refused by the guard (409), or, if it was authenticated only after
            // the winner's commit, by its own token being revoked (401). Never both revoked.
            var statuses = both.Select(r => (int)r.StatusCode).ToArray();
            Assert.Equal(1, statuses.Count(s => s == 204));
            Assert.Contains(statuses.Single(s => s != 204), new[] { 401, 409 });
            await using var session = App.Store.QuerySession();
            var usable = await session.Query<ApiToken>().CountAsync(t => t.RevokedAt == null && t.Role == ApiTokenRole.Admin);
            Assert.Equal(1, usable);
        }
    }
}
