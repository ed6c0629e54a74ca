using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Wirety.Server.Peers;
using Wirety.Testing;

namespace Wirety.Bench;

/// <summary>
/// Segmentation at scale: for each N (default 250, 500, 1000 peers: 1 jump + N−1 enrolled dynamic agents holding the
/// agent WebSocket, all with known endpoints), 50 groups (each peer in one or two), default policy deny and 200
/// group-to-group policies with ports. Measured per N: (1) a policy change (PATCH of one policy's ports, then of its
/// destinations) from the call until every affected agent got its push and fetched its new config and filter (200 with
/// a new ETag); (2) the what-if preview of such a change. Every agent without a push is checked afterwards: its config
/// must be unchanged.
/// </summary>
public static class PolicyBench
{
    private static readonly string[] PortPool = ["tcp/22", "tcp/443", "tcp/8000-8100", "udp/53", "icmp", "tcp/5432"];

    public static async Task<int> RunAsync(string[] args)
    {
        var sizes = (Array.IndexOf(args, "--peers") is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : "250,500,1000")
            .Split(',').Select(int.Parse).ToArray();
        var groups = BenchArgs.Int(args, "--groups", 50);
        var policies = BenchArgs.Int(args, "--policies", 200);
        var rounds = BenchArgs.Int(args, "--rounds", 4);
        var previews = BenchArgs.Int(args, "--previews", 30);

        var cluster = await PostgresCluster.SharedAsync();
        var reports = new List<(int Peers, string Text, double ChangeP50, double PreviewP50)>();
        foreach (var peers in sizes)
        {
            var db = await cluster.CreateDatabaseAsync($"wirety_policy_{peers}");
            await using var server = await ServerProcess.StartAsync(db);
            reports.Add(await MeasureAsync(server, peers, groups, policies, rounds, previews));
        }

        Console.WriteLine();
        Console.WriteLine($"## Wirety bench — policy changes ({groups} groups, {policies} policies, default deny, {rounds} change(s) per size)");
        Console.WriteLine($"client, server and PostgreSQL share this machine's {Environment.ProcessorCount} cores");
        foreach (var report in reports) Console.WriteLine(report.Text);
        var first = reports[0];
        Console.WriteLine();
        Console.WriteLine("growth (p50 relative to the smallest size):");
        foreach (var r in reports)
            Console.WriteLine($"  {r.Peers,5} peers ({(double)r.Peers / first.Peers:F1}× N): change → all agents updated {r.ChangeP50 / first.ChangeP50:F2}×, preview {r.PreviewP50 / first.PreviewP50:F2}×");
        return 0;
    }

    private static async Task<(int, string, double, double)> MeasureAsync(ServerProcess server, int peers, int groupCount, int policyCount, int rounds, int previews)
    {
        var random = new Random(peers);
        using var admin = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 16 }) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServerProcess.AdminToken);

        var setup = Stopwatch.StartNew();
        var net = (await admin.PostJson("/api/v1/networks", new { name = $"policy-{peers}", cidr = "10.90.0.0/20" })).GetProperty("id").GetGuid();
        var tokens = new string[peers];
        tokens[0] = (await admin.PostJson($"/api/v1/networks/{net}/peers",
            new { name = "hub", kind = "jump", endpoint = "198.18.0.1:51820", listenPort = 51820 })).GetProperty("enrollmentToken").GetString()!;
        await Parallel.ForEachAsync(Enumerable.Range(1, peers - 1), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (n, _) =>
            tokens[n] = (await admin.PostJson($"/api/v1/networks/{net}/peers", new { name = $"dyn-{n}", kind = "dynamic" }))
                .GetProperty("enrollmentToken").GetString()!);
        var fleet = new PropagationBench.Agent[peers];
        await Parallel.ForEachAsync(Enumerable.Range(0, peers), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (n, _) =>
        {
            var enrolled = await admin.PostJson("/api/v1/agent/enroll",
                new { token = tokens[n], publicKey = WireGuardKeyPair.Generate().PublicKey, hostname = $"host-{n}" });
            fleet[n] = new PropagationBench.Agent(n, enrolled.GetProperty("peerId").GetGuid(), enrolled.GetProperty("sessionToken").GetString()!);
        });
        // Endpoints, so the dynamic peers form a mesh and policies decide which direct entries exist.
        await Parallel.ForEachAsync(fleet.Skip(1), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (ag, ct) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/agent/heartbeat")
            {
                Content = JsonContent.Create(new { hostname = $"host-{ag.Index}", listenPort = 51820, endpoints = new[] { $"198.18.{ag.Index / 250 + 1}.{ag.Index % 250 + 1}:51820" }, uptimeSeconds = 10 }),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ag.Session);
            using var response = await admin.SendAsync(request, ct);
            response.EnsureSuccessStatusCode();
        });
        await PropagationBench.WaitForEndpointsAsync(admin, net, peers - 1, TimeSpan.FromMinutes(30));

        var groupIds = new Guid[groupCount];
        for (var g = 0; g < groupCount; g++)
            groupIds[g] = (await admin.PostJson($"/api/v1/networks/{net}/groups", new { name = $"group-{g}" })).GetProperty("id").GetGuid();
        var members = groupIds.ToDictionary(g => g, _ => new List<Guid>());
        foreach (var ag in fleet.Skip(1))
            foreach (var g in Enumerable.Range(0, 1 + random.Next(2)).Select(_ => groupIds[random.Next(groupCount)]).Distinct())
                members[g].Add(ag.PeerId);
        foreach (var (g, list) in members)
            await Send(admin, HttpMethod.Put, $"/api/v1/networks/{net}/groups/{g}/members", new { peerIds = list });
        await Send(admin, HttpMethod.Patch, $"/api/v1/networks/{net}", new { defaultPolicy = "deny" });
        var policyIds = new Guid[policyCount];
        for (var p = 0; p < policyCount; p++)
            policyIds[p] = (await admin.PostJson($"/api/v1/networks/{net}/policies", Policy(random, groupIds, $"policy-{p}"))).GetProperty("id").GetGuid();
        await PropagationBench.WaitUntilQuietAsync(admin, net, TimeSpan.FromMinutes(30));
        Console.WriteLine($"{peers} peers: set up (peers, enrollment, endpoints, {groupCount} groups, {policyCount} policies) in {setup.Elapsed.TotalSeconds:F1} s");

        await using var clients = new PropagationBench.Clients(server.BaseAddress);
        await clients.ConnectAsync(fleet, _ => 0);

        var calls = new List<double>();
        var updated = new List<double>();
        var affected = new List<int>();
        var missed = 0;
        var failed = 0;
        // Round 0 warms up (JIT, first notice).
        for (var round = 0; round <= rounds; round++)
        {
            var target = policyIds[random.Next(policyCount)];
            var change = round % 2 == 0
                ? (object)new { ports = new[] { PortPool[random.Next(PortPool.Length)] } }
                : new { destinations = new { groups = new[] { groupIds[random.Next(groupCount)] }, peers = Array.Empty<Guid>() } };
            await clients.QuiesceAsync();
            var run = clients.Arm();
            var clock = Stopwatch.StartNew();
            await Send(admin, HttpMethod.Patch, $"/api/v1/networks/{net}/policies/{target}", change);
            var answered = clock.Elapsed.TotalMilliseconds;
            await run.SettledAsync(TimeSpan.FromSeconds(120));
            var (results, wrong) = run.Results();
            var stale = await clients.CountChangedAsync(fleet.Where(ag => !results.ContainsKey(ag.Index)).ToList());
            if (round == 0) continue;
            calls.Add(answered);
            affected.Add(results.Count);
            if (results.Count > 0) updated.Add(results.Values.Max(r => r.FetchedMs));
            missed += stale;
            failed += wrong;
        }

        var previewTimes = new List<double>();
        for (var n = 0; n <= previews; n++)
        {
            var draft = new { update = new[] { new { id = policyIds[random.Next(policyCount)], ports = new[] { PortPool[random.Next(PortPool.Length)] } } }, add = new[] { Policy(random, groupIds, $"draft-{n}") } };
            var clock = Stopwatch.StartNew();
            var preview = await admin.PostJson($"/api/v1/networks/{net}/policies/preview", draft);
            if (n > 0) previewTimes.Add(clock.Elapsed.TotalMilliseconds);
            if (n == previews)
                Console.WriteLine($"{peers} peers: last preview: {preview.GetProperty("gained").GetArrayLength()} gained, {preview.GetProperty("lost").GetArrayLength()} lost, {preview.GetProperty("configsChanged").GetInt32()} configs changed");
        }

        var text = $"""

            {peers} peers ({fleet.Length} agents connected):
              affected agents per change: {string.Join(", ", affected)}; missed (changed but no push): {missed}; failed fetches: {failed}
              PATCH answered:                            {BenchStats.Summary(calls)}
              → last affected agent has its new config:  {(updated.Count > 0 ? BenchStats.Summary(updated) : "no agent affected")}
              preview (update one policy + add one):     {BenchStats.Summary(previewTimes)}
            """;
        Console.WriteLine(text);
        return (peers, text, updated.Count > 0 ? BenchStats.Percentile(updated, 0.5) : 0, BenchStats.Percentile(previewTimes, 0.5));
    }

    private static object Policy(Random random, Guid[] groups, string name) => new
    {
        name,
        sources = new { groups = new[] { groups[random.Next(groups.Length)] }, peers = Array.Empty<Guid>() },
        destinations = new { groups = new[] { groups[random.Next(groups.Length)] }, peers = Array.Empty<Guid>() },
        ports = Enumerable.Range(0, 1 + random.Next(2)).Select(_ => PortPool[random.Next(PortPool.Length)]).Distinct().ToArray(),
    };

    private static async Task Send(HttpClient http, HttpMethod method, string url, object body)
    {
        using var response = await http.SendAsync(new HttpRequestMessage(method, url) { Content = JsonContent.Create(body) });
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"{method} {url} → {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }
}
