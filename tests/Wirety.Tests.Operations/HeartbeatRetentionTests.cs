using JasperFx.Events;
using Marten;
using Marten.Events;
using Marten.Events.Archiving;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Wirety.Events.Peers;
using Wirety.Server.Operations;
using Wirety.Tests.Operations.Harness;

namespace Wirety.Tests.Operations;

[Collection(OperationsCollection.Name)]
public sealed class HeartbeatRetentionTests(OperationsApp app) : IAsyncLifetime
{
    public Task InitializeAsync() => app.ResetAsync();
    public Task DisposeAsync() => Task.CompletedTask;

    private HeartbeatRetentionService Retention => app.Services.GetRequiredService<HeartbeatRetentionService>();

    [Fact]
    public async Task heartbeats_older_than_the_retention_age_are_archived_but_stay_queryable_and_in_backups()
    {
        var scenario = new Scenario(app);
        await scenario.BuildAsync();
        var old = await HeartbeatsAsync(includeArchived: false);
        Assert.True(old.Count >= 15);

        app.Clock.Advance(TimeSpan.FromDays(30) + TimeSpan.FromHours(1));
        var agent = scenario.Agents[0];
        await scenario.HeartbeatAsync(agent, 51820, ["198.18.0.1:51820"]);
        await scenario.HeartbeatAsync(agent, 51820, ["198.18.0.1:51820"]);
        await scenario.QuiesceAsync();
        var before = await StoreSnapshot.TakeAsync(app.ConnectionString);

        Assert.Equal(old.Count, await Retention.RunOnceAsync(CancellationToken.None));

        // Live queries see the recent heartbeats only; asked for, the archived ones are all there.
        var live = await HeartbeatsAsync(includeArchived: false);
        Assert.Equal(2, live.Count);
        Assert.All(live, e => Assert.True(((HeartbeatReceived)e.Data).At > app.Clock.GetUtcNow() - TimeSpan.FromDays(30)));
        var all = await HeartbeatsAsync(includeArchived: true);
        Assert.Equal(old.Count + 2, all.Count);
        Assert.Equal(old.Select(e => e.Id).Order(), all.Where(e => e.IsArchived).Select(e => e.Id).Order());

        // Live reads in sequence order skip the archived rows through a partial index, which schema updates leave in place.
        const string indexExists = "select count(*) from pg_indexes where schemaname = 'wirety' and indexname = 'wirety_mt_events_live_seq'";
        Assert.Equal(1, await OperationsApp.ScalarAsync(app.ConnectionString, indexExists));
        await app.Store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        Assert.Equal(1, await OperationsApp.ScalarAsync(app.ConnectionString, indexExists));

        // Only the archive flag changed: no read model moved, and the peer's stream takes new heartbeats.
        var after = await StoreSnapshot.TakeAsync(app.ConnectionString);
        Assert.Equal(before.Tables.Where(t => t.Key != "mt_events"), after.Tables.Where(t => t.Key != "mt_events"));
        Assert.Equal(0, await Retention.RunOnceAsync(CancellationToken.None));
        await scenario.HeartbeatAsync(agent, 51820, ["198.18.0.1:51820"]);

        // A rebuild replays archived events too, and a backup carries them with their flag.
        Assert.Equal(0, (await app.RunAsync("projections", "rebuild")).ExitCode);
        var current = await StoreSnapshot.TakeAsync(app.ConnectionString);
        var file = app.TempFile("archived.wbk");
        Assert.Equal(0, (await app.RunAsync("backup", "--out", file)).ExitCode);
        var target = await app.CreateEmptyDatabaseAsync();
        Assert.Equal(0, (await app.RunOnAsync(target, "restore", "--in", file)).ExitCode);
        StoreSnapshot.AssertEqual(current, await StoreSnapshot.TakeAsync(target));
        Assert.Equal(old.Count, await OperationsApp.ScalarAsync(target, "select count(*) from wirety.mt_events where is_archived"));
    }

    [Fact]
    public async Task the_archive_command_uses_the_given_age_or_the_configured_one()
    {
        var scenario = new Scenario(app);
        await scenario.BuildAsync();
        var count = (await HeartbeatsAsync(includeArchived: false)).Count;

        app.Clock.Advance(TimeSpan.FromDays(8));
        var kept = await app.RunAsync("heartbeats", "archive", "--older-than-days", "9");
        Assert.True(kept.ExitCode == 0, kept.ToString());
        Assert.Contains("archived 0 heartbeat events", kept.Out);

        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["WIRETY_DB"] = app.ConnectionString, [HeartbeatRetentionOptions.Variable] = "7",
        }).Build();
        var archived = await app.RunWithConfigAsync(config, "heartbeats", "archive");
        Assert.True(archived.ExitCode == 0, archived.ToString());
        Assert.Contains($"archived {count} heartbeat events", archived.Out);
        Assert.Empty(await HeartbeatsAsync(includeArchived: false));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    [InlineData("soon")]
    public async Task a_bad_age_is_refused_and_archives_nothing(string days)
    {
        var scenario = new Scenario(app);
        await scenario.BuildAsync();
        app.Clock.Advance(TimeSpan.FromDays(400));
        var result = await app.RunAsync("heartbeats", "archive", "--older-than-days", days);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--older-than-days", result.Error);

        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["WIRETY_DB"] = app.ConnectionString, [HeartbeatRetentionOptions.Variable] = days == "0" ? "0" : "x" + days,
        }).Build();
        var configured = await app.RunWithConfigAsync(config, "heartbeats", "archive");
        Assert.Equal(2, configured.ExitCode);
        Assert.Contains(HeartbeatRetentionOptions.Variable, configured.Error);
        Assert.Equal(0, await OperationsApp.ScalarAsync(app.ConnectionString, "select count(*) from wirety.mt_events where is_archived"));
    }

    [Fact]
    public async Task only_one_instance_archives_at_a_time()
    {
        var scenario = new Scenario(app);
        await scenario.BuildAsync();
        app.Clock.Advance(TimeSpan.FromDays(31));

        // Another instance is archiving: it holds the retention lock in its transaction.
        await using var other = new NpgsqlConnection(app.ConnectionString);
        await other.OpenAsync();
        await using var tx = await other.BeginTransactionAsync();
        await using (var cmd = new NpgsqlCommand($"select pg_advisory_xact_lock({HeartbeatArchiver.LockKey})", other, tx))
            await cmd.ExecuteNonQueryAsync();

        Assert.Null(await Retention.RunOnceAsync(CancellationToken.None));
        var busy = await app.RunAsync("heartbeats", "archive", "--older-than-days", "30");
        Assert.Equal(1, busy.ExitCode);
        Assert.Contains("another instance is archiving", busy.Error);
        Assert.Equal(0, await OperationsApp.ScalarAsync(app.ConnectionString, "select count(*) from wirety.mt_events where is_archived"));

        await tx.RollbackAsync();
        Assert.True(await Retention.RunOnceAsync(CancellationToken.None) > 0);
    }

    private async Task<IReadOnlyList<IEvent>> HeartbeatsAsync(bool includeArchived)
    {
        await using var session = app.Store.QuerySession();
        var query = session.Events.QueryAllRawEvents().Where(e => e.EventTypesAre(typeof(HeartbeatReceived)));
        if (includeArchived) query = query.Where(e => e.MaybeArchived());
        return await query.OrderBy(e => e.Sequence).ToListAsync();
    }
}
