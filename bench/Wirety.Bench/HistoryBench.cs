using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Marten;
using Npgsql;
using Wirety.Events.Peers;
using Wirety.Projections;
using Wirety.Projections.Agents;
using Wirety.Server.Peers;
using Wirety.Testing;

namespace Wirety.Bench;

/// <summary>
/// The event store at size: seeds E events (default 1,000,000: a few networks and peers created,
/// enrolled and heartbeating through the real API, the bulk heartbeats appended through Marten's
/// append API in group commits of 100, received over the last 60 days), then measures, with the real server binary running:
/// NDJSON export rate and peak server RSS at 10 % and at 100 % of E (memory must not grow with E),
/// <c>backup</c> time and size, <c>projections rebuild</c> rate, and <c>restore</c> time (rebuild
/// included) into a fresh database. The commands run as separate processes, as an operator runs them.
/// </summary>
public static class HistoryBench
{
    private const int HeartbeatsPerCommit = 100;

    public static async Task<int> RunAsync(string[] args)
    {
        var total = BenchArgs.Int(args, "--events", 1_000_000);
        var networks = BenchArgs.Int(args, "--networks", 4);
        var peersPerNetwork = BenchArgs.Int(args, "--peers", 25);

        await using var cluster = await PostgresCluster.StartNewAsync(new PostgresClusterOptions { Durable = true });
        var db = await cluster.CreateDatabaseAsync("wirety_history");
        // The server's own hourly archiving would race the measurements; the bench archives with the command.
        await using var server = await ServerProcess.StartAsync(db, new Dictionary<string, string> { ["WIRETY_HEARTBEAT_RETENTION_DAYS"] = "0" });
        using var admin = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(30) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServerProcess.AdminToken);

        // Admin history through the API: networks, peers, enrollments, first heartbeats (endpoints → mesh configs).
        var clock = Stopwatch.StartNew();
        var peers = new List<(Guid Net, Guid Peer)>();
        for (var n = 0; n < networks; n++)
        {
            var net = (await BenchHttp.PostJson(admin, "/api/v1/networks", new { name = $"net{n}", cidr = $"10.{100 + n}.0.0/22" })).GetProperty("id").GetGuid();
            await BenchHttp.PostJson(admin, $"/api/v1/networks/{net}/peers", new { name = "hub", kind = "jump", endpoint = $"198.18.{n}.1:51820", listenPort = 51820 });
            for (var p = 0; p < peersPerNetwork; p++)
            {
                var kind = p % 4 == 3 ? "static" : "dynamic";
                var created = await BenchHttp.PostJson(admin, $"/api/v1/networks/{net}/peers", new { name = $"peer{p}", kind });
                if (kind == "static") continue;
                var enrolled = await BenchHttp.PostJson(admin, "/api/v1/agent/enroll", new
                {
                    token = created.GetProperty("enrollmentToken").GetString(), publicKey = WireGuardKeyPair.Generate().PublicKey, hostname = $"peer{p}",
                });
                var peerId = enrolled.GetProperty("peerId").GetGuid();
                peers.Add((net, peerId));
                using var agent = new HttpClient { BaseAddress = server.BaseAddress };
                agent.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", enrolled.GetProperty("sessionToken").GetString());
                var hb = await agent.PostAsJsonAsync("/api/v1/agent/heartbeat", new
                {
                    hostname = $"peer{p}", listenPort = 51000 + p, endpoints = new[] { $"198.18.{n}.{10 + p}:{51000 + p}" }, uptimeSeconds = 10,
                    peerStats = Array.Empty<object>(),
                });
                hb.EnsureSuccessStatusCode();
            }
            for (var p = 0; p < peersPerNetwork; p += 5)
            {
                var peer = peers.Where(x => x.Net == net).ElementAtOrDefault(p / 5);
                if (peer == default) continue;
                (await admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers/{peer.Peer}/block", new { reason = "bench" })).EnsureSuccessStatusCode();
                (await admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers/{peer.Peer}/unblock", new { })).EnsureSuccessStatusCode();
            }
        }
        var adminEvents = await ScalarAsync(db, "select count(*) from wirety.mt_events");
        Console.WriteLine($"admin history: {adminEvents:N0} events through the API in {clock.Elapsed.TotalSeconds:F0} s ({peers.Count} enrolled agents)");

        using var store = DocumentStore.For(opts => WiretyStore.Configure(opts, db));
        var results = new List<string>();
        var exportSmall = total / 10;

        clock.Restart();
        await SeedHeartbeatsAsync(store, peers, exportSmall - adminEvents, total, adminEvents);
        Console.WriteLine($"seeded to {exportSmall:N0} events in {clock.Elapsed.TotalSeconds:F0} s");
        results.Add(await ExportAsync(server, admin, exportSmall));

        clock.Restart();
        var present = await ScalarAsync(db, "select count(*) from wirety.mt_events");
        var seeded = await SeedHeartbeatsAsync(store, peers, total - present, total, present);
        Console.WriteLine($"seeded to {total:N0} events in {clock.Elapsed.TotalSeconds:F0} s ({seeded / clock.Elapsed.TotalSeconds:N0} events/s through Marten's append API)");
        results.Add(await ExportAsync(server, admin, total));

        var events = await ScalarAsync(db, "select count(*) from wirety.mt_events");
        var consumed = await ScalarAsync(db, $"select count(*) from wirety.mt_events where type <> '{Server.Operations.HeartbeatArchiver.HeartbeatEventType}'");
        var work = Directory.CreateTempSubdirectory("wirety-history-bench-").FullName;
        try
        {
            var file = Path.Combine(work, "bench.wbk");
            var backup = await CommandAsync(db, "backup", "--out", file);
            results.Add($"backup (server running): {backup.TotalSeconds:F1} s for {events:N0} events → {new FileInfo(file).Length / 1e6:F1} MB "
                        + $"({events / backup.TotalSeconds:N0} events/s)");

            var rebuild = await CommandAsync(db, "projections", "rebuild");
            results.Add($"projections rebuild: {rebuild.TotalSeconds:F1} s → {events / rebuild.TotalSeconds:N0} events/s over all {events:N0} events "
                        + $"(target ≥ 20,000/s: {events / rebuild.TotalSeconds / 20_000:P0} of target); "
                        + $"{consumed:N0} of them are the admin/incident events the projections act on, the rest heartbeats they read and pass over");

            var target = await cluster.CreateDatabaseAsync("wirety_history_restore");
            var restore = await CommandAsync(target, "restore", "--in", file);
            results.Add($"restore into an empty database, rebuild included: {restore.TotalSeconds:F1} s ({events / restore.TotalSeconds:N0} events/s)");

            // A live read in sequence order (the first page of unarchived heartbeats, as a "recent heartbeats"
            // query sees it) before archiving, after it with the partial index the archiver builds, and without it.
            var livePage = "select seq_id from wirety.mt_events where not is_archived and type = "
                           + $"'{Server.Operations.HeartbeatArchiver.HeartbeatEventType}' order by seq_id limit 100";
            var before = await MedianMsAsync(db, livePage);
            var archive = await CommandAsync(db, "heartbeats", "archive", "--older-than-days", "30");
            var archived = await ScalarAsync(db, "select count(*) from wirety.mt_events where is_archived");
            results.Add($"heartbeats archive (older than 30 days): {archive.TotalSeconds:F1} s for {archived:N0} events (partial index build included)");
            var withIndex = await MedianMsAsync(db, livePage);
            await ScalarAsync(db, "drop index wirety.wirety_mt_events_live_seq; select 0");
            var withoutIndex = await MedianMsAsync(db, livePage);
            results.Add($"first 100 unarchived heartbeats by sequence: {before:F2} ms before archiving; after it {withIndex:F2} ms with the partial index, "
                        + $"{withoutIndex:F2} ms without (median of 21)");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }

        Console.WriteLine();
        Console.WriteLine($"## Wirety bench — history at {total:N0} events ({peers.Count} agents in {networks} networks, {HeartbeatsPerCommit} heartbeats per commit, fsync on)");
        foreach (var line in results) Console.WriteLine("- " + line);
        return 0;
    }

    /// <summary>
    /// Heartbeats straight through Marten's append API (the path the server's group commit uses, minus HTTP),
    /// round-robin over the enrolled peers, received (<c>at</c>) over the 60 days up to now in append order,
    /// as a store that has been running that long holds them.
    /// </summary>
    private static async Task<long> SeedHeartbeatsAsync(IDocumentStore store, List<(Guid Net, Guid Peer)> peers, long count, long total,
        long alreadySeeded)
    {
        var now = DateTimeOffset.UtcNow;
        var span = TimeSpan.FromDays(60);
        long written = 0;
        var random = new Random(42);
        while (written < count)
        {
            await using var session = store.LightweightSession();
            var batch = (int)Math.Min(HeartbeatsPerCommit, count - written);
            foreach (var group in Enumerable.Range(0, batch).Select(i => peers[(int)((written + i) % peers.Count)]).GroupBy(p => p))
            {
                var (net, peer) = group.Key;
                session.Events.Append(HeartbeatStreams.For(peer), group.Select(_ => (object)new HeartbeatReceived(
                    Guid.CreateVersion7(), net, peer, Guid.Empty, "198.18.200.1", "bench", 51820, ["198.18.200.1:51820"],
                    random.Next(1, 1_000_000), [new HeartbeatPeerStat("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", now, 1234, 5678)],
                    now - span + span * ((double)(alreadySeeded + written) / total))).ToArray());
            }
            await session.SaveChangesAsync();
            written += batch;
        }
        return written;
    }

    /// <summary>NDJSON export of every event (archived ones too) through the server.</summary>
    private static async Task<string> ExportAsync(ServerProcess server, HttpClient admin, long events) =>
        await ExportMeasurement.RunAsync(server, admin, "?includeArchived=true") is { } export
            ? $"NDJSON export at {events:N0} events: {export}"
            : $"NDJSON export at {events:N0} events: skipped — GET /api/v1/events answers 404 (the event-query endpoint is not in this build)";

    /// <summary>Runs `wirety-server ARGS` as its own process and returns its wall time; fails the bench on a nonzero exit.</summary>
    private static async Task<TimeSpan> CommandAsync(string db, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "wirety-server.dll"), .. args])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, Environment = { ["WIRETY_DB"] = db },
        };
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var elapsed = clock.Elapsed;
        Console.WriteLine($"$ wirety-server {string.Join(' ', args)}  ({elapsed.TotalSeconds:F1} s)\n{(await stdout).Trim()}");
        Console.WriteLine((await stderr).Trim());
        if (process.ExitCode != 0) throw new InvalidOperationException($"wirety-server {args[0]} failed ({process.ExitCode}): {await stderr}");
        return elapsed;
    }

    private static async Task<double> MedianMsAsync(string db, string sql)
    {
        await using var conn = new NpgsqlConnection(db);
        await conn.OpenAsync();
        var samples = new List<double>();
        for (var i = 0; i < 21; i++)
        {
            var clock = Stopwatch.StartNew();
            await using var cmd = new NpgsqlCommand(sql, conn);
            await using (var reader = await cmd.ExecuteReaderAsync()) while (await reader.ReadAsync()) { }
            samples.Add(clock.Elapsed.TotalMilliseconds);
        }
        return BenchStats.Percentile(samples, 0.5);
    }

    private static async Task<long> ScalarAsync(string db, string sql)
    {
        await using var conn = new NpgsqlConnection(db);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

}
