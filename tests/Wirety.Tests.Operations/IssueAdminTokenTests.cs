using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Marten;
using Wirety.Events;
using Wirety.Events.Tokens;
using Wirety.Projections.Tokens;
using Wirety.Server.Auth;
using Wirety.Server.Operations;
using Wirety.Tests.Operations.Harness;

namespace Wirety.Tests.Operations;

/// <summary><c>wirety-server tokens issue-admin</c>: the way back in when no usable admin token is left.</summary>
[Collection(OperationsCollection.Name)]
public sealed class IssueAdminTokenTests(OperationsApp app) : IAsyncLifetime
{
    public Task InitializeAsync() => app.ResetAsync();
    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task with_every_admin_token_gone_issue_admin_prints_a_token_that_works_on_the_running_server()
    {
        // Lost the only admin token: revoked behind the API's back (the API refuses to revoke the last one).
        await using (var session = app.Store.LightweightSession())
        {
            session.Events.Append(AdminBootstrap.BootstrapTokenId, new ApiTokenRevoked(AdminBootstrap.BootstrapTokenId, Actor.System, app.Clock.GetUtcNow()));
            await session.SaveChangesAsync();
        }
        app.ClearCaches();
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Admin.GetAsync("/api/v1/networks")).StatusCode);

        var result = await app.RunAsync("tokens", "issue-admin", "--name", "ops-recovery");

        Assert.True(result.ExitCode == OperationsCommandLine.Ok, result.ToString());
        var value = result.Out.TrimEnd().Split('\n')[^1];
        Assert.StartsWith(TokenSecrets.ApiTokenPrefix, value);
        var admin = app.Client(value);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/v1/networks")).StatusCode);
        var created = await admin.PostAsJsonAsync("/api/v1/tokens", new { name = "next", role = "admin" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var tokens = JsonDocument.Parse(await admin.GetStringAsync("/api/v1/tokens")).RootElement;
        var recovery = tokens.EnumerateArray().Single(t => t.GetProperty("name").GetString() == "ops-recovery");
        Assert.Equal("admin", recovery.GetProperty("role").GetString());

        // Only the hash is stored, and the event says an operator issued it.
        await using var query = app.Store.QuerySession();
        var issued = (await query.Events.QueryRawEventDataOnly<ApiTokenIssued>().ToListAsync()).Single(e => e.Name == "ops-recovery");
        Assert.Equal(TokenSecrets.Hash(value), issued.TokenHash);
        Assert.Equal(ApiTokenRole.Admin, issued.Role);
        Assert.StartsWith("operator", issued.Actor.Name);
    }

    [Theory]
    [InlineData("tokens", "issue-admin", "--name", "")]
    [InlineData("tokens", "issue-admin", "--name", " padded ")]
    [InlineData("tokens")]
    public async Task bad_usage_issues_nothing(params string[] args)
    {
        await using var before = app.Store.QuerySession();
        var count = await before.Query<ApiToken>().CountAsync();

        var result = await app.RunAsync(args);

        Assert.True(result.ExitCode == OperationsCommandLine.Usage, result.ToString());
        Assert.Equal("", result.Out);
        await using var after = app.Store.QuerySession();
        Assert.Equal(count, await after.Query<ApiToken>().CountAsync());
    }
}
