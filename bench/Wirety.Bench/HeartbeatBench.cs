using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Wirety.Server.Peers;
using Wirety.Testing;

namespace Wirety.Bench;

/// <summary>
/// Heartbeat ingestion: C concurrent simulated agents post heartbeats over HTTP for a fixed time; each
/// 204 means the HeartbeatReceived event is committed. Beside it, a raw Npgsql baseline on the same
/// (durable) cluster: one INSERT of the same JSON per commit, same concurrency, same duration.
/// </summary>
public static class HeartbeatBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var agents = BenchArgs.Int(args, "--agents", 200);
        var concurrency = BenchArgs.Int(args, "--concurrency", 64);
        var seconds = BenchArgs.Int(args, "--seconds", 15);

        // Durable settings (fsync on): an acknowledged heartbeat must survive a crash, and the baseline
        // pays the same price.
        await using var cluster = await PostgresCluster.StartNewAsync(new PostgresClusterOptions { Durable = true });
        var db = await cluster.CreateDatabaseAsync("wirety_bench");
        await using var server = await ServerProcess.StartAsync(db);
        using var admin = new HttpClient { BaseAddress = server.BaseAddress };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServerProcess.AdminToken);

        var net = (await BenchHttp.PostJson(admin, "/api/v1/networks", new { name = "bench", cidr = "10.64.0.0/16" })).GetProperty("id").GetGuid();
        var sessions = new List<string>();
        for (var i = 0; i < agents; i++)
        {
            var token = (await BenchHttp.PostJson(admin, $"/api/v1/networks/{net}/peers", new { name = $"agent-{i}", kind = "dynamic" }))
                .GetProperty("enrollmentToken").GetString();
            var enrolled = await BenchHttp.PostJson(admin, "/api/v1/agent/enroll",
                new { token, publicKey = WireGuardKeyPair.Generate().PublicKey, hostname = $"agent-{i}" });
            sessions.Add(enrolled.GetProperty("sessionToken").GetString()!);
        }
        Console.WriteLine($"enrolled {agents} agents");

        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        const string body = "{\"hostname\":\"agent\",\"listenPort\":51820,\"uptimeSeconds\":1000,"
            + "\"peerStats\":[{\"publicKey\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\",\"latestHandshake\":\"2026-01-01T00:00:00Z\",\"rxBytes\":1234,\"txBytes\":5678}]}";
        // Warm-up: each agent's first heartbeat records its endpoint (a network-stream write; not measured).
        for (var i = 0; i < agents; i++) await Heartbeat(http, sessions[i], body);
        // Those endpoint changes re-render the mesh's configs off the request path; measure only once the
        // network stream has stopped moving.
        var quiet = Stopwatch.StartNew();
        for (long last = -1, version; quiet.Elapsed < TimeSpan.FromMinutes(5); last = version)
        {
            version = (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/networks/{net}")).GetProperty("version").GetInt64();
            if (version == last) break;
            await Task.Delay(2000);
        }
        Console.WriteLine($"endpoints recorded and configs re-rendered after {quiet.Elapsed.TotalSeconds:F0} s");

        // The load comes from wrk (C, event-driven): a .NET HttpClient load generator spent as much CPU on
        // this 2-core machine as the server it was measuring.
        var wirety = await Wrk.RunAsync(server.BaseAddress, "/api/v1/agent/heartbeat", body, sessions, concurrency, seconds);

        await using var dataSource = NpgsqlDataSource.Create(db);
        await using (var create = dataSource.CreateCommand("create table if not exists baseline_heartbeats (id bigserial primary key, data jsonb not null)"))
            await create.ExecuteNonQueryAsync();
        var payload = body;
        var baseline = await Drive(concurrency, seconds, async _ =>
        {
            await using var insert = dataSource.CreateCommand("insert into baseline_heartbeats (data) values ($1::jsonb)");
            insert.Parameters.AddWithValue(payload);
            await insert.ExecuteNonQueryAsync(); // autocommit: one commit per row
        });

        Console.WriteLine();
        Console.WriteLine($"## Wirety bench — heartbeat ingestion ({agents} agents, {concurrency} concurrent, {seconds} s, fsync on)");
        Console.WriteLine($"Wirety HTTP heartbeats (ack after commit): {wirety.PerSecond,8:F0}/s  p50 {wirety.P50Ms:F2} ms, p99 {wirety.P99Ms:F2} ms (n={wirety.Requests}, wrk)");
        Console.WriteLine($"raw Npgsql, 1 INSERT per commit:           {baseline.PerSecond,8:F0}/s  {BenchStats.Summary(baseline.Latencies)}");
        Console.WriteLine($"ratio Wirety / baseline: {wirety.PerSecond / baseline.PerSecond:F2}×; target ≥ 5,000/s → {wirety.PerSecond / 5000:P0} of target");
        Console.WriteLine("(the baseline's client runs in this process; Wirety's load comes from wrk over loopback HTTP)");
        return 0;
    }

    private sealed record Result(double PerSecond, List<double> Latencies);

    /// <summary>Runs <paramref name="concurrency"/> loops for a fixed time; counts completed operations.</summary>
    private static async Task<Result> Drive(int concurrency, int seconds, Func<int, Task> operation)
    {
        var latencies = new List<double>[concurrency];
        var clock = Stopwatch.StartNew();
        var end = TimeSpan.FromSeconds(seconds);
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async worker =>
        {
            var mine = latencies[worker] = new List<double>();
            while (clock.Elapsed < end)
            {
                var started = clock.Elapsed;
                await operation(worker);
                mine.Add((clock.Elapsed - started).TotalMilliseconds);
            }
        }));
        var all = latencies.SelectMany(l => l).ToList();
        return new Result(all.Count / clock.Elapsed.TotalSeconds, all);
    }

    private static async Task Heartbeat(HttpClient http, string session, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/agent/heartbeat")
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", session);
        using var response = await http.SendAsync(request);
        if (response.StatusCode != HttpStatusCode.NoContent)
            throw new InvalidOperationException($"heartbeat → {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

}
