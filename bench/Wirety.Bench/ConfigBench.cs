using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Wirety.Testing;

namespace Wirety.Bench;

/// <summary>
/// A network with N peers: (a) time from adding peer N+1 until every affected config read model is
/// current, (b) GET config latency for an ETag hit (304) and for misses.
/// </summary>
public static class ConfigBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var peers = BenchArgs.Int(args, "--peers", 1000);
        var adds = BenchArgs.Int(args, "--adds", 30);
        var reads = BenchArgs.Int(args, "--reads", 3000);

        var cluster = await PostgresCluster.SharedAsync();
        var db = await cluster.CreateDatabaseAsync("wirety_bench");
        await using var server = await ServerProcess.StartAsync(db);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = server.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServerProcess.AdminToken);

        var network = await Post("/api/v1/networks", new { name = "bench", cidr = "10.64.0.0/16" });
        var net = network.GetProperty("id").GetGuid();
        var jump = (await Post($"/api/v1/networks/{net}/peers", new { name = "hub", kind = "jump", endpoint = "198.18.0.1:51820", listenPort = 51820 }))
            .GetProperty("id").GetGuid();

        // Static peers carry keys from creation, so each one is an entry in the jump's config: the jump's
        // config grows to N entries and every addition re-renders it (the O(N) part of a change).
        var seed = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(1, peers - 1), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
            await Post($"/api/v1/networks/{net}/peers", new { name = $"peer-{i}", kind = i % 4 == 0 ? "dynamic" : "static" }));
        Console.WriteLine($"seeded {peers} peers in {seed.Elapsed.TotalSeconds:F1} s");
        var jumpConfigUrl = $"/api/v1/networks/{net}/peers/{jump}/config";
        var entries = (await http.GetStringAsync(jumpConfigUrl)).Split("[Peer]").Length - 1;
        Console.WriteLine($"jump config holds {entries} peer entries");

        // (a) Projections are inline: when the POST returns, the new peer's config and every affected config
        // (here the jump's) are committed in the same transaction. We time the POST and then confirm the
        // jump's config read model already lists the new address.
        var addLatencies = new List<double>();
        for (var i = 0; i < adds; i++)
        {
            var sw = Stopwatch.StartNew();
            var added = await Post($"/api/v1/networks/{net}/peers", new { name = $"extra-{i}", kind = "static" });
            sw.Stop();
            var address = added.GetProperty("address").GetString()!;
            if (!(await http.GetStringAsync(jumpConfigUrl)).Contains($"AllowedIPs = {address}/32"))
                throw new InvalidOperationException("The jump's config did not list the new peer right after the POST returned.");
            addLatencies.Add(sw.Elapsed.TotalMilliseconds);
            // Keep N constant: remove it again (not timed).
            await http.DeleteAsync($"/api/v1/networks/{net}/peers/{added.GetProperty("id")}");
        }

        // (b) GET config of the 1,000-entry jump config.
        var first = await http.GetAsync(jumpConfigUrl);
        var etag = first.Headers.ETag!;
        var hit = await Time(reads, async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, jumpConfigUrl);
            request.Headers.IfNoneMatch.Add(etag);
            using var response = await http.SendAsync(request);
            Expect(response, HttpStatusCode.NotModified);
        });
        var warmMiss = await Time(reads, async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, jumpConfigUrl);
            request.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"stale\""));
            using var response = await http.SendAsync(request);
            Expect(response, HttpStatusCode.OK);
            await response.Content.ReadAsByteArrayAsync();
        });
        // Cold miss: a write to the network invalidates the cached configs, so the next read loads from PostgreSQL.
        var someStatic = (await http.GetFromJsonAsync<JsonElement>($"/api/v1/networks/{net}/peers")).EnumerateArray()
            .First(p => p.GetProperty("kind").GetString() == "static").GetProperty("id").GetGuid();
        var coldSamples = new List<double>();
        for (var i = 0; i < Math.Min(200, reads); i++)
        {
            await Post($"/api/v1/networks/{net}/peers/{someStatic}/{(i % 2 == 0 ? "block" : "unblock")}", new { reason = "bench" });
            var sw = Stopwatch.StartNew();
            using var response = await http.GetAsync(jumpConfigUrl);
            await response.Content.ReadAsByteArrayAsync();
            coldSamples.Add(sw.Elapsed.TotalMilliseconds);
        }

        Console.WriteLine();
        Console.WriteLine($"## Wirety bench — issue 2 (N = {peers} peers, jump config {entries} entries)");
        Console.WriteLine($"(a) add peer N+1 → all affected configs current: {BenchStats.Summary(addLatencies)}; target ≤ 100 ms → p99 is {BenchStats.Percentile(addLatencies, 0.99) / 100:P0} of target");
        Console.WriteLine($"(b) GET config, ETag hit (304):              {BenchStats.Summary(hit)}");
        Console.WriteLine($"    GET config, ETag miss, cached (200):     {BenchStats.Summary(warmMiss)}");
        Console.WriteLine($"    GET config, cold after a write (200):    {BenchStats.Summary(coldSamples)}");
        Console.WriteLine($"    304 vs cold 200 at p50: {BenchStats.Percentile(coldSamples, 0.5) / BenchStats.Percentile(hit, 0.5):F1}× faster");
        return 0;

        async Task<JsonElement> Post(string url, object body)
        {
            using var response = await http.PostAsJsonAsync(url, body);
            if (!response.IsSuccessStatusCode)
                throw new InvalidOperationException($"POST {url} → {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }

        static async Task<List<double>> Time(int n, Func<Task> action)
        {
            for (var i = 0; i < Math.Min(100, n); i++) await action(); // warm-up
            var samples = new List<double>(n);
            for (var i = 0; i < n; i++)
            {
                var sw = Stopwatch.StartNew();
                await action();
                samples.Add(sw.Elapsed.TotalMilliseconds);
            }
            return samples;
        }

        static void Expect(HttpResponseMessage response, HttpStatusCode status)
        {
            if (response.StatusCode != status) throw new InvalidOperationException($"expected {status}, got {response.StatusCode}");
        }

    }
}
