using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Wirety.Server.Peers;
using Wirety.Testing;

namespace Wirety.Bench;

/// <summary>
/// Event-stream export and queries over a large store: N heartbeat events (default 1,000,000) are
/// written straight into one peer's heartbeat stream with SQL (the shape the server writes), then the
/// real server binary exports them as NDJSON while the server's resident memory is sampled from /proc,
/// and keyset pages deep in the stream are timed.
/// </summary>
public static class ExportBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var events = BenchArgs.Int(args, "--events", 1_000_000);
        await using var cluster = await PostgresCluster.StartNewAsync();
        var db = await cluster.CreateDatabaseAsync("wirety_export");
        await using var server = await ServerProcess.StartAsync(db);
        using var admin = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(30) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServerProcess.AdminToken);

        var net = (await BenchHttp.PostJson(admin, "/api/v1/networks", new { name = "bench", cidr = "10.64.0.0/16" })).GetProperty("id").GetGuid();
        var token = (await BenchHttp.PostJson(admin, $"/api/v1/networks/{net}/peers", new { name = "agent", kind = "dynamic" })).GetProperty("enrollmentToken").GetString();
        var enrolled = await BenchHttp.PostJson(admin, "/api/v1/agent/enroll", new { token, publicKey = WireGuardKeyPair.Generate().PublicKey, hostname = "agent" });
        var peer = enrolled.GetProperty("peerId").GetGuid();
        using (var agent = new HttpClient { BaseAddress = server.BaseAddress })
        {
            agent.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", enrolled.GetProperty("sessionToken").GetString());
            (await agent.PostAsJsonAsync("/api/v1/agent/heartbeat", new { hostname = "agent", listenPort = 51820, uptimeSeconds = 1 })).EnsureSuccessStatusCode();
        }

        var fill = Stopwatch.StartNew();
        await using (var conn = new NpgsqlConnection(db))
        {
            await conn.OpenAsync();
            // Copy the real heartbeat row N times, each with its own sequence, version, id and time.
            await using var cmd = new NpgsqlCommand("""
                insert into wirety.mt_events (seq_id, id, stream_id, version, data, type, timestamp, tenant_id, mt_dotnet_type, is_archived)
                select nextval('wirety.mt_events_sequence'), gen_random_uuid(), h.stream_id, h.version + g,
                       jsonb_set(jsonb_set(h.data, '{heartbeatId}', to_jsonb(gen_random_uuid())), '{at}',
                                 to_jsonb(to_char(((h.data->>'at')::timestamptz + make_interval(secs => g)) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'))),
                       h.type, h.timestamp, h.tenant_id, h.mt_dotnet_type, false
                from wirety.mt_events h, generate_series(1, @n) g
                where h.type = 'heartbeat_received'
                """, conn) { CommandTimeout = 0 };
            cmd.Parameters.AddWithValue("n", events);
            await cmd.ExecuteNonQueryAsync();
            await using var analyze = new NpgsqlCommand("analyze wirety.mt_events", conn) { CommandTimeout = 0 };
            await analyze.ExecuteNonQueryAsync();
        }
        Console.WriteLine($"wrote {events:N0} heartbeat events in {fill.Elapsed.TotalSeconds:F1} s");

        var export = await ExportMeasurement.RunAsync(server, admin)
                     ?? throw new InvalidOperationException("GET /api/v1/events answered 404");
        Console.WriteLine($"NDJSON export: {export}");

        var firstHeartbeat = (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/events?type=HeartbeatReceived&limit=1"))
            .GetProperty("items")[0].GetProperty("timestamp").GetDateTimeOffset();
        var middle = Uri.EscapeDataString(firstHeartbeat.AddSeconds(events / 2).ToString("O"));
        var minuteLater = Uri.EscapeDataString(firstHeartbeat.AddSeconds(events / 2 + 60).ToString("O"));
        foreach (var (what, query) in new[]
                 {
                     ("time filter: from the middle on", $"?limit=1000&from={middle}"),
                     ("time filter: one minute in the middle", $"?limit=1000&from={middle}&to={minuteLater}"),
                     ("first page (limit 1000)", "?limit=1000"),
                     ("page deep in the stream (after = N/2)", $"?limit=1000&after={events / 2}"),
                     ("peer filter, deep", $"?limit=1000&peerId={peer}&after={events / 2}"),
                     ("network + type filter (sparse: admin events among heartbeats)", $"?limit=100&networkId={net}&type=PeerEnrolled,PeerAdded"),
                 })
        {
            var times = new List<double>();
            for (var i = 0; i < 5; i++)
            {
                var sw = Stopwatch.StartNew();
                (await admin.GetAsync("/api/v1/events" + query)).EnsureSuccessStatusCode();
                times.Add(sw.Elapsed.TotalMilliseconds);
            }
            Console.WriteLine($"{what}: median {times.Order().ElementAt(2):F0} ms");
        }
        return 0;
    }
}
