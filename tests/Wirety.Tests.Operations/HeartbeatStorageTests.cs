using System.Net;
using System.Net.Http.Json;
using JasperFx.Events;
using Marten;
using Wirety.Events.Peers;
using Wirety.Projections.Agents;
using Wirety.Server.Agents;
using Wirety.Server.Operations;
using Wirety.Tests.Operations.Harness;
using Xunit.Abstractions;

namespace Wirety.Tests.Operations;

/// <summary>Heartbeat storage: per-peer stats as deltas, archiving in batches, purging archived heartbeats.</summary>
[Collection(OperationsCollection.Name)]
public sealed class HeartbeatStorageTests(OperationsApp app, ITestOutputHelper output) : IAsyncLifetime
{
    public Task InitializeAsync() => app.ResetAsync();
    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task an_idle_agents_repeated_beats_store_no_peer_stats_after_the_first_and_the_full_list_can_be_rebuilt()
    {
        var scenario = new Scenario(app);
        await scenario.BuildAsync();
        app.ClearCaches(); // as after a restart: this instance knows no earlier beat of any session
        var jump = scenario.Agents[0];
        var stats = Enumerable.Range(0, 1000).Select(Stat).ToList();
        var sent = new List<IReadOnlyList<HeartbeatPeerStat>>();

        // First beat after the restart: the full list. Then four identical beats: nothing per peer.
        for (var i = 0; i < 5; i++)
        {
            await BeatAsync(jump, stats);
            sent.Add(stats);
        }
        var stored = await LastBeatsAsync(jump.PeerId, 5);
        Assert.Null(stored[0].PeerStatsSince);
        Assert.Equal(1000, stored[0].PeerStats.Count);
        for (var i = 1; i < 5; i++)
        {
            Assert.Empty(stored[i].PeerStats);
            Assert.Null(stored[i].PeerStatsRemoved);
            Assert.Equal(stored[i - 1].HeartbeatId, stored[i].PeerStatsSince);
        }

        var sizes = await DataSizesAsync(stored.Select(h => h.HeartbeatId).Take(2).ToList());
        var stored0 = await DataSizesAsync(stored.Select(h => h.HeartbeatId).Take(2).ToList(), "pg_column_size(data)");
        output.WriteLine($"data column with 1,000 peer stats: full beat {sizes[0]:N0} bytes as text ({stored0[0]:N0} stored, TOAST-compressed), "
                         + $"idle delta {sizes[1]:N0} bytes as text ({stored0[1]:N0} stored)");
        Assert.True(sizes[1] < 1_000, $"an idle beat stores {sizes[1]} bytes");
        Assert.True(sizes[0] > 50 * sizes[1]);

        // Every peer's keepalives and rekeying (a few bytes, a handshake two minutes on): below the resolution, nothing
        // stored. One peer moved 2 MiB, one handshake moved 15 minutes, one peer goes away, one is new: those are stored.
        var keepalives = stats.Select(s => s with { RxBytes = s.RxBytes + 96, TxBytes = s.TxBytes + 96, LatestHandshake = s.LatestHandshake?.AddMinutes(2) }).ToList();
        var changed = keepalives.Select((s, i) => i switch
            {
                10 => s with { RxBytes = s.RxBytes + 2 * PeerStatsBaselines.CounterResolution },
                20 => s with { LatestHandshake = s.LatestHandshake?.AddMinutes(15) },
                _ => s,
            })
            .Where((_, i) => i != 40).Append(Stat(5000)).ToList();
        await BeatAsync(jump, changed);
        sent.Add(changed);
        var delta = (await LastBeatsAsync(jump.PeerId, 1))[0];
        Assert.Equal(new[] { changed[10].PublicKey, changed[20].PublicKey, Stat(5000).PublicKey }.Order(StringComparer.Ordinal),
            delta.PeerStats.Select(s => s.PublicKey).Order(StringComparer.Ordinal));
        Assert.Equal([stats[40].PublicKey], delta.PeerStatsRemoved);

        // Reading the chain back gives the peers the agent reported at every beat, each within the resolution.
        var chain = await LastBeatsAsync(jump.PeerId, 6);
        IReadOnlyList<HeartbeatPeerStat>? full = null;
        for (var i = 0; i < chain.Count; i++)
        {
            full = HeartbeatPeerStats.Apply(full, chain[i]);
            var reported = sent[i].ToDictionary(s => s.PublicKey, StringComparer.Ordinal);
            Assert.Equal(reported.Keys.Order(StringComparer.Ordinal), full.Select(s => s.PublicKey));
            Assert.All(full, s => Assert.False(PeerStatsBaselines.Moved(s, reported[s.PublicKey]), $"peer {s.PublicKey} rebuilt beyond the resolution"));
        }
        Assert.Equal(changed[10], full!.Single(s => s.PublicKey == changed[10].PublicKey));

        // Within the next FullSnapshotEvery beats exactly one stores the full list again (bounded chains).
        for (var i = 0; i < HeartbeatIngestor.FullSnapshotEvery; i++) await BeatAsync(jump, changed);
        var later = await LastBeatsAsync(jump.PeerId, HeartbeatIngestor.FullSnapshotEvery);
        var snapshot = Assert.Single(later, h => h.PeerStatsSince is null);
        Assert.Equal(1000, snapshot.PeerStats.Count);
        Assert.All(later.Where(h => h.PeerStatsSince is not null), h => Assert.Empty(h.PeerStats));
    }

    [Fact]
    public void a_delta_names_the_last_committed_beat_so_an_uncommitted_one_or_a_race_never_breaks_the_chain()
    {
        var baselines = new PeerStatsBaselines(fullSnapshotEvery: 5);
        var session = Guid.NewGuid();
        HeartbeatReceived Beat(params HeartbeatPeerStat[] stats) =>
            new(Guid.NewGuid(), Guid.Empty, Guid.Empty, session, "198.18.0.1", "h", 51820, [], 1, stats, DateTimeOffset.UnixEpoch);

        var first = Beat(Stat(1), Stat(2));
        var c1 = baselines.Compact(first);
        Assert.Null(c1.Stored.PeerStatsSince);
        baselines.Committed(first, c1);

        // A beat whose commit failed (Committed never called) does not become the baseline.
        var lost = Beat(Stat(1) with { RxBytes = 9 }, Stat(2));
        Assert.Equal(first.HeartbeatId, baselines.Compact(lost).Stored.PeerStatsSince);

        // Two beats of the session racing: both are deltas against the same committed beat, each exact on its own.
        var a = Beat(Stat(1) with { TxBytes = 7 }, Stat(2));
        var b = Beat(Stat(2));
        var ca = baselines.Compact(a);
        var cb = baselines.Compact(b);
        Assert.Equal(first.HeartbeatId, ca.Stored.PeerStatsSince);
        Assert.Equal(first.HeartbeatId, cb.Stored.PeerStatsSince);
        Assert.Equal(a.PeerStats.OrderBy(s => s.PublicKey, StringComparer.Ordinal), HeartbeatPeerStats.Apply(first.PeerStats, ca.Stored));
        Assert.Equal(b.PeerStats, HeartbeatPeerStats.Apply(first.PeerStats, cb.Stored));
        Assert.Equal([Stat(1).PublicKey], cb.Stored.PeerStatsRemoved);
        baselines.Committed(b, cb);
        baselines.Committed(a, ca);
        Assert.Equal(a.HeartbeatId, baselines.Compact(Beat()).Stored.PeerStatsSince);

        // Forgotten (a restart, or the memory bound): the next beat is stored in full.
        baselines.Forget();
        var after = Beat(Stat(3));
        Assert.Null(baselines.Compact(after).Stored.PeerStatsSince);
        Assert.Equal(after.PeerStats, baselines.Compact(after).Stored.PeerStats);
    }

    [Fact]
    public void traffic_below_the_resolution_accumulates_against_the_stored_value_until_it_is_stored()
    {
        var baselines = new PeerStatsBaselines(fullSnapshotEvery: 60);
        var session = Guid.NewGuid();
        HeartbeatReceived Beat(HeartbeatPeerStat stat) =>
            new(Guid.NewGuid(), Guid.Empty, Guid.Empty, session, "198.18.0.1", "h", 51820, [], 1, [stat], DateTimeOffset.UnixEpoch);
        var storedAt = new List<int>();
        for (var beat = 0; beat < 9; beat++)
        {
            // 400 KiB per beat: never a megabyte from the previous beat, but from the last stored value every third beat.
            var heartbeat = Beat(Stat(1) with { RxBytes = 1001 + beat * 400L * 1024 });
            var compacted = baselines.Compact(heartbeat);
            if (compacted.Stored.PeerStats.Count > 0) storedAt.Add(beat);
            baselines.Committed(heartbeat, compacted);
        }
        Assert.Equal([0, 3, 6], storedAt);

        var stat = Stat(1);
        Assert.False(PeerStatsBaselines.Moved(stat, stat with { RxBytes = stat.RxBytes + 96, LatestHandshake = stat.LatestHandshake?.AddMinutes(2) }));
        Assert.True(PeerStatsBaselines.Moved(stat, stat with { TxBytes = stat.TxBytes - 1 }), "a counter that went down was reset");
        Assert.True(PeerStatsBaselines.Moved(stat, stat with { LatestHandshake = null }));
        Assert.True(PeerStatsBaselines.Moved(stat, stat with { LatestHandshake = stat.LatestHandshake?.Add(PeerStatsBaselines.HandshakeResolution) }));
    }

    [Fact]
    public void the_memory_bound_forgets_rather_than_grows()
    {
        var baselines = new PeerStatsBaselines(fullSnapshotEvery: 60, maxEntries: 10);
        var sessions = Enumerable.Range(0, 3).Select(_ => Guid.NewGuid()).ToList();
        HeartbeatReceived Beat(Guid session) =>
            new(Guid.NewGuid(), Guid.Empty, Guid.Empty, session, "198.18.0.1", "h", 51820, [], 1,
                Enumerable.Range(0, 4).Select(Stat).ToList(), DateTimeOffset.UnixEpoch);
        var beats = sessions.Select(Beat).ToList();
        foreach (var beat in beats) baselines.Committed(beat, baselines.Compact(beat)); // 12 stats > 10: forgotten
        Assert.All(sessions, s => Assert.Null(baselines.Compact(Beat(s)).Stored.PeerStatsSince));
    }

    [Fact]
    public void heartbeats_written_before_deltas_existed_read_as_full_lists()
    {
        // An event as earlier releases stored it: no peerStatsSince, no peerStatsRemoved.
        const string json = """
            {"heartbeatId":"0193a0a0-0000-7000-8000-000000000001","networkId":"0193a0a0-0000-7000-8000-000000000002",
             "peerId":"0193a0a0-0000-7000-8000-000000000003","sessionId":"0193a0a0-0000-7000-8000-000000000004",
             "sourceAddress":"198.18.0.1","hostname":"h","listenPort":51820,"endpoints":[],"uptimeSeconds":5,
             "peerStats":[{"publicKey":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","latestHandshake":null,"rxBytes":1,"txBytes":2}],
             "at":"2026-01-01T00:00:00+00:00"}
            """;
        var serializer = app.Store.Options.Serializer();
        var old = serializer.FromJson<HeartbeatReceived>(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json)));
        Assert.Null(old.PeerStatsSince);
        Assert.Null(old.PeerStatsRemoved);
        Assert.Single(HeartbeatPeerStats.Apply(null, old));
    }

    [Fact]
    public async Task archiving_in_batches_archives_everything_older_than_the_cutoff_and_nothing_newer()
    {
        var scenario = new Scenario(app);
        await scenario.BuildAsync();
        var old = await CountAsync("type = 'heartbeat_received'");
        Assert.True(old >= 15);
        app.Clock.Advance(TimeSpan.FromDays(31));
        for (var i = 0; i < 3; i++) await scenario.HeartbeatAsync(scenario.Agents[0], 51820, ["198.18.0.1:51820"]);

        var archiver = new HeartbeatArchiver(app.ConnectionString, batchSize: 4);
        Assert.Equal(old, await archiver.ArchiveAsync(app.Clock.GetUtcNow() - TimeSpan.FromDays(30), CancellationToken.None));
        Assert.Equal((old + 3) / 4, archiver.LastRunBatches); // bounded transactions: ceil(old / 4) batches, the last one short or empty
        Assert.True(archiver.LastRunBatches >= 4);
        Assert.Equal(old, await CountAsync("type = 'heartbeat_received' and is_archived"));
        Assert.Equal(3, await CountAsync("type = 'heartbeat_received' and not is_archived"));
        Assert.Equal(0, await CountAsync("type <> 'heartbeat_received' and is_archived"));
        Assert.Equal(0, await CountAsync($"type = 'heartbeat_received' and not is_archived and (data ->> 'at')::timestamptz < '{app.Clock.GetUtcNow().AddDays(-30):O}'"));
        Assert.Equal(0, await archiver.ArchiveAsync(app.Clock.GetUtcNow() - TimeSpan.FromDays(30), CancellationToken.None));
    }

    [Fact]
    public async Task purge_deletes_only_archived_heartbeats_before_the_cutoff_and_only_with_yes()
    {
        var scenario = new Scenario(app);
        await scenario.BuildAsync();
        app.Clock.Advance(TimeSpan.FromDays(31));
        await scenario.HeartbeatAsync(scenario.Agents[0], 51820, ["198.18.0.1:51820"]);
        Assert.Equal(0, (await app.RunAsync("heartbeats", "archive", "--older-than-days", "30")).ExitCode);

        // An archived event that is not a heartbeat must survive too (archiving never does this; purge must not rely on it).
        var notAHeartbeat = await OperationsApp.ScalarAsync(app.ConnectionString,
            "select min(seq_id) from wirety.mt_events where type <> 'heartbeat_received'");
        await OperationsApp.ExecAsync(app.ConnectionString, $"update wirety.mt_events set is_archived = true where seq_id = {notAHeartbeat}");

        // The cutoff falls inside the archived heartbeats: the earlier ones go, the later archived ones stay.
        var times = await ArchivedHeartbeatTimesAsync();
        var cutoff = times[times.Count / 2];
        Assert.InRange(times.Count(t => t < cutoff), 2, times.Count - 1);
        // An old heartbeat that is not archived stays, however old (e.g. archiving turned off, or not yet run).
        var unarchivedOld = await OperationsApp.ScalarAsync(app.ConnectionString,
            "select min(seq_id) from wirety.mt_events where type = 'heartbeat_received' and is_archived");
        await OperationsApp.ExecAsync(app.ConnectionString, $"update wirety.mt_events set is_archived = false where seq_id = {unarchivedOld}");
        var expected = times.Count(t => t < cutoff) - 1;
        Assert.Equal(expected, await CountAsync($"type = 'heartbeat_received' and is_archived and (data ->> 'at')::timestamptz < '{cutoff:O}'"));
        var streamsBefore = await RowsAsync("select id || ':' || version from wirety.mt_streams");
        var keptBefore = await RowsAsync(
            $"select seq_id::text from wirety.mt_events where not (type = 'heartbeat_received' and is_archived and (data ->> 'at')::timestamptz < '{cutoff:O}')");
        var totalBefore = await CountAsync("true");

        var dry = await app.RunAsync("heartbeats", "purge", "--archived-before", cutoff.ToString("O"));
        Assert.True(dry.ExitCode == 1, dry.ToString());
        Assert.Contains($"would delete {expected}", dry.Error);
        Assert.Contains("--yes", dry.Error);
        Assert.Equal(totalBefore, await CountAsync("true"));

        var purged = await app.RunAsync("heartbeats", "purge", "--archived-before", cutoff.ToString("O"), "--yes");
        Assert.True(purged.ExitCode == 0, purged.ToString());
        Assert.Contains($"purged {expected} archived heartbeat events", purged.Out);

        // Exactly the archived heartbeats before the cutoff are gone; every other event and every stream (its version too) is as it was.
        Assert.Equal(keptBefore, await RowsAsync("select seq_id::text from wirety.mt_events"));
        Assert.Equal(totalBefore - expected, await CountAsync("true"));
        Assert.Equal(streamsBefore, await RowsAsync("select id || ':' || version from wirety.mt_streams"));
        Assert.Equal(1, await CountAsync($"seq_id = {notAHeartbeat} and is_archived"));
        Assert.Equal(1, await CountAsync($"seq_id = {unarchivedOld} and not is_archived"));
        await OperationsApp.ExecAsync(app.ConnectionString, $"update wirety.mt_events set is_archived = false where seq_id = {notAHeartbeat}");

        // The store carries on: heartbeats append after the stream's version, projections rebuild over the gaps.
        var version = await OperationsApp.ScalarAsync(app.ConnectionString,
            $"select version from wirety.mt_streams where id = '{HeartbeatStreams.For(scenario.Agents[0].PeerId)}'");
        await scenario.HeartbeatAsync(scenario.Agents[0], 51820, ["198.18.0.1:51820"]);
        Assert.Equal(version + 1, await OperationsApp.ScalarAsync(app.ConnectionString,
            $"select max(version) from wirety.mt_events where stream_id = '{HeartbeatStreams.For(scenario.Agents[0].PeerId)}'"));
        await scenario.QuiesceAsync();
        var snapshot = await StoreSnapshot.TakeAsync(app.ConnectionString);
        var rebuild = await app.RunAsync("projections", "rebuild");
        Assert.True(rebuild.ExitCode == 0, rebuild.ToString());
        StoreSnapshot.AssertEqual(snapshot, await StoreSnapshot.TakeAsync(app.ConnectionString));

        var again = await app.RunAsync("heartbeats", "purge", "--archived-before", cutoff.ToString("O"), "--yes");
        Assert.Contains("purged 0 archived", again.Out);
    }

    [Theory]
    [InlineData(new[] { "heartbeats", "purge" }, "needs --archived-before")]
    [InlineData(new[] { "heartbeats", "purge", "--archived-before", "last tuesday", "--yes" }, "ISO 8601")]
    public async Task bad_purge_command_lines_are_refused(string[] args, string message)
    {
        var result = await app.RunAsync(args);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(message, result.Error);
    }

    private static HeartbeatPeerStat Stat(int i)
    {
        var key = new byte[32];
        BitConverter.TryWriteBytes(key, i);
        return new HeartbeatPeerStat(Convert.ToBase64String(key), DateTimeOffset.FromUnixTimeSeconds(1_780_000_000 + i), 1000 + i, 2000 + i);
    }

    private static async Task BeatAsync(Scenario.Agent agent, IReadOnlyList<HeartbeatPeerStat> stats)
    {
        var response = await agent.Client.PostAsJsonAsync("/api/v1/agent/heartbeat", new
        {
            hostname = "hub", listenPort = 51820, endpoints = new[] { "198.18.0.1:51820" }, uptimeSeconds = 5,
            peerStats = stats.Select(s => new { publicKey = s.PublicKey, latestHandshake = s.LatestHandshake, rxBytes = s.RxBytes, txBytes = s.TxBytes }),
        });
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
    }

    private async Task<IReadOnlyList<HeartbeatReceived>> LastBeatsAsync(Guid peerId, int count)
    {
        await using var session = app.Store.QuerySession();
        var events = await session.Events.FetchStreamAsync(HeartbeatStreams.For(peerId));
        return events.Select(e => (HeartbeatReceived)e.Data).TakeLast(count).ToList();
    }

    private async Task<List<long>> DataSizesAsync(IReadOnlyList<Guid> heartbeatIds, string measure = "octet_length(data::text)")
    {
        var sizes = new List<long>();
        foreach (var id in heartbeatIds)
            sizes.Add(await OperationsApp.ScalarAsync(app.ConnectionString,
                $"select {measure} from wirety.mt_events where data ->> 'heartbeatId' = '{id}'"));
        return sizes;
    }

    private Task<long> CountAsync(string where) =>
        OperationsApp.ScalarAsync(app.ConnectionString, $"select count(*) from wirety.mt_events where {where}");

    private async Task<List<DateTimeOffset>> ArchivedHeartbeatTimesAsync()
    {
        await using var conn = new Npgsql.NpgsqlConnection(app.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand(
            "select (data ->> 'at')::timestamptz from wirety.mt_events where type = 'heartbeat_received' and is_archived order by 1", conn);
        var times = new List<DateTimeOffset>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) times.Add(new DateTimeOffset(reader.GetDateTime(0), TimeSpan.Zero));
        return times;
    }

    private async Task<List<string>> RowsAsync(string sql)
    {
        await using var conn = new Npgsql.NpgsqlConnection(app.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand(sql + " order by 1", conn);
        var rows = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }
}
