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

        var net = (await PostJson(admin, "/api/v1/networks", new { name = "bench", cidr = "10.64.0.0/16" })).GetProperty("id").GetGuid();
        var token = (await PostJson(admin, $"/api/v1/networks/{net}/peers", new { name = "agent", kind = "dynamic" })).GetProperty("enrollmentToken").GetString();
        var enrolled = await PostJson(admin, "/api/v1/agent/enroll", new { token, publicKey = WireGuardKeyPair.Generate().PublicKey, hostname = "agent" });
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

        var idle = RssKb(server.ProcessId);
        var peak = idle;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, RssKb(server.ProcessId));
                try { await Task.Delay(100, sampling.Token); } catch (OperationCanceledException) { }
            }
        });

        var export = Stopwatch.StartNew();
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-ndjson"));
        using var response = await admin.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        var firstLineAfter = TimeSpan.Zero;
        long lines = 0, bytes = 0;
        using (var reader = new StreamReader(await response.Content.ReadAsStreamAsync()))
            while (await reader.ReadLineAsync() is { } line)
            {
                if (lines++ == 0) firstLineAfter = export.Elapsed;
                bytes += line.Length + 1;
            }
        export.Stop();
        sampling.Cancel();
        await sampler;

        Console.WriteLine($"NDJSON export: {lines:N0} events, {bytes / 1048576.0:F0} MiB in {export.Elapsed.TotalSeconds:F1} s " +
                          $"({lines / export.Elapsed.TotalSeconds:N0} events/s; first line after {firstLineAfter.TotalMilliseconds:F0} ms)");
        Console.WriteLine($"server resident memory: {idle / 1024.0:F0} MiB before, peak {peak / 1024.0:F0} MiB during the export");

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

    private static long RssKb(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmRSS:")) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        return 0;
    }

    private static async Task<JsonElement> PostJson(HttpClient http, string url, object body)
    {
        var response = await http.PostAsJsonAsync(url, body);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{url}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
