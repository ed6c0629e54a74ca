using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using NSec.Cryptography;
using Wirety.Events.Agent;
using Wirety.Server.Peers;
using Wirety.Testing;

namespace Wirety.Bench;

/// <summary>
/// Issue 15: one network of N peers (1 jump + N−1 dynamic), for each N of <c>--peers</c>, each on a fresh database
/// and server process:
/// <list type="bullet">
/// <item>create the N peers with <c>peers:bulk</c> (1,000 per request);</item>
/// <item>per-change latency, each change one admin call answered after its commit (inline projections): add a
///   static peer (then removed, untimed), block a dynamic peer (then unblocked, untimed), change a peer's declared
///   endpoint;</item>
/// <item>when N ≤ <c>--agents-max</c>: enroll N agents, report one endpoint each (the full mesh), connect N
///   simulated agents to <c>/api/v1/agent/ws?deltas=1</c>, block one mesh peer and time until every affected agent
///   has received and verified (Ed25519, pinned key) the envelopes of that change; bytes per agent per change;
///   server RSS with the agents connected.</item>
/// </list>
/// Prints a table and the growth exponent k (cost ∝ N^k) between the smallest and the largest N measured.
/// </summary>
public static class ScaleBench
{
    private const int BulkSize = 1000;

    public static async Task<int> RunAsync(string[] args)
    {
        var sizes = BenchArgs.Text(args, "--peers", "1000,2000,5000,10000").Split(',').Select(int.Parse).ToList();
        var changes = BenchArgs.Int(args, "--changes", 20);
        var agentsMax = BenchArgs.Int(args, "--agents-max", 2000);
        var rounds = BenchArgs.Int(args, "--rounds", 3);

        var cluster = await PostgresCluster.SharedAsync();
        var rows = new List<Row>();
        foreach (var n in sizes)
        {
            var db = await cluster.CreateDatabaseAsync($"wirety_scale_{n}");
            await using var server = await ServerProcess.StartAsync(db);
            rows.Add(await MeasureAsync(server, n, changes, n <= agentsMax, rounds));
            Console.WriteLine(rows[^1].Line());
        }

        Console.WriteLine();
        Console.WriteLine($"## Wirety bench — scale (one network, 1 jump + N−1 dynamic peers; {changes} changes of each kind per N; " +
                          $"client, server and PostgreSQL on this machine's {Environment.ProcessorCount} cores)");
        Console.WriteLine();
        Console.WriteLine(Row.Header);
        Console.WriteLine(Row.Rule);
        foreach (var row in rows) Console.WriteLine(row.Line());
        if (rows.Count >= 2)
        {
            var (small, large) = (rows[0], rows[^1]);
            Console.WriteLine();
            Console.WriteLine($"growth exponent k (cost ∝ N^k) from N={small.N} to N={large.N}:");
            foreach (var (name, pick) in Row.Scaled)
                Console.WriteLine($"  {name,-28} {Exponent(small, large, pick)}");
            var agents = rows.Where(r => r.Propagation is not null).ToList();
            if (agents.Count >= 2)
            {
                Console.WriteLine($"  (agents: from N={agents[0].N} to N={agents[^1].N})");
                foreach (var (name, pick) in Row.AgentScaled)
                    Console.WriteLine($"  {name,-28} {Exponent(agents[0], agents[^1], pick)}");
            }
        }
        return 0;
    }

    private static string Exponent(Row small, Row large, Func<Row, double?> pick) =>
        pick(small) is { } a && pick(large) is { } b && a > 0 && b > 0
            ? (Math.Log(b / a) / Math.Log((double)large.N / small.N)).ToString("F2", CultureInfo.InvariantCulture)
            : "—";

    private static async Task<Row> MeasureAsync(ServerProcess server, int n, int changes, bool withAgents, int rounds)
    {
        using var admin = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 16 })
        { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(10) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServerProcess.AdminToken);

        var net = (await admin.PostJson("/api/v1/networks", new { name = $"scale-{n}", cidr = "10.64.0.0/16" })).GetProperty("id").GetGuid();
        var clock = Stopwatch.StartNew();
        var jump = await admin.PostJson($"/api/v1/networks/{net}/peers", new { name = "hub", kind = "jump", endpoint = "198.18.0.1:51820", listenPort = 51820 });
        var peers = new List<(Guid Id, string Token)> { (jump.GetProperty("id").GetGuid(), jump.GetProperty("enrollmentToken").GetString()!) };
        for (var first = 1; first < n; first += BulkSize)
        {
            var batch = Enumerable.Range(first, Math.Min(BulkSize, n - first)).Select(i => new { name = $"dyn-{i}", kind = "dynamic" }).ToList();
            var created = await admin.PostJson($"/api/v1/networks/{net}/peers:bulk", new { peers = batch });
            peers.AddRange(created.GetProperty("peers").EnumerateArray()
                .Select(p => (p.GetProperty("id").GetGuid(), p.GetProperty("enrollmentToken").GetString()!)));
        }
        var createSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"N={n}: created {peers.Count} peers with peers:bulk in {createSeconds:F1} s");

        // Per-change latency. Each call returns after the commit, with every read model (inline projections) current.
        var random = new Random(n);
        var add = new List<double>();
        var block = new List<double>();
        var endpoint = new List<double>();
        for (var i = 0; i < changes + 1; i++)
        {
            var sw = Stopwatch.StartNew();
            var added = await admin.PostJson($"/api/v1/networks/{net}/peers", new { name = $"extra-{i}", kind = "static" });
            if (i > 0) add.Add(sw.Elapsed.TotalMilliseconds); // the first call of each kind warms up
            await Send(admin, HttpMethod.Delete, $"/api/v1/networks/{net}/peers/{added.GetProperty("id")}", null);

            var victim = peers[1 + random.Next(peers.Count - 1)].Id;
            sw.Restart();
            await admin.PostJson($"/api/v1/networks/{net}/peers/{victim}/block", new { reason = "bench" });
            if (i > 0) block.Add(sw.Elapsed.TotalMilliseconds);
            await admin.PostJson($"/api/v1/networks/{net}/peers/{victim}/unblock", new { reason = "bench" });

            sw.Restart();
            await Send(admin, HttpMethod.Patch, $"/api/v1/networks/{net}/peers/{peers[1].Id}", new { endpoint = $"198.19.{i / 250}.{i % 250 + 1}:51820" });
            if (i > 0) endpoint.Add(sw.Elapsed.TotalMilliseconds);
        }

        var row = new Row(n, createSeconds, add, block, endpoint);
        if (!withAgents) return row;

        // The full mesh: every agent enrolls with its own key and reports where it listens.
        clock.Restart();
        var fleet = new Agent[peers.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, peers.Count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            var enrolled = await admin.PostJson("/api/v1/agent/enroll",
                new { token = peers[i].Token, publicKey = WireGuardKeyPair.Generate().PublicKey, hostname = $"host-{i}" });
            var key = enrolled.GetProperty("signingKey").GetString()
                ?? throw new InvalidOperationException("The server's enrollment answer has no signingKey: deltas are not available.");
            fleet[i] = new Agent(i, enrolled.GetProperty("peerId").GetGuid(), enrolled.GetProperty("sessionToken").GetString()!, key);
        });
        var enrollSeconds = clock.Elapsed.TotalSeconds;
        await Parallel.ForEachAsync(fleet.Skip(1), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (ag, ct) =>
            await Send(admin, HttpMethod.Post, "/api/v1/agent/heartbeat", new
            {
                hostname = $"host-{ag.Index}", listenPort = 51820, uptimeSeconds = 10,
                endpoints = new[] { $"198.18.{ag.Index / 250 + 1}.{ag.Index % 250 + 1}:51820" },
            }, ag.Session));
        await PropagationBench.WaitForEndpointsAsync(admin, net, fleet.Length - 1, TimeSpan.FromMinutes(60));
        await PropagationBench.WaitUntilQuietAsync(admin, net, TimeSpan.FromMinutes(60));
        var meshSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"N={n}: enrolled {fleet.Length} agents in {enrollSeconds:F1} s; full mesh (every endpoint known) in {meshSeconds:F1} s");

        await using var sockets = await DeltaSockets.ConnectAsync(server.BaseAddress, fleet);
        var rss = server.ResidentBytes();
        var propagation = new List<double>();
        var bytes = new List<double>();
        var affected = new List<int>();
        var target = fleet[fleet.Length / 2];
        for (var round = 0; round <= rounds; round++)
        {
            foreach (var action in new[] { "block", "unblock" })
            {
                await sockets.QuiesceAsync();
                var run = sockets.Arm();
                await admin.PostJson($"/api/v1/networks/{net}/peers/{target.PeerId}/{action}", new { reason = "bench" });
                await run.SettledAsync(TimeSpan.FromSeconds(120));
                if (action != "block" || round == 0) continue; // round 0 warms up
                var results = run.Results();
                if (run.BadSignatures > 0) throw new InvalidOperationException($"{run.BadSignatures} envelopes failed verification");
                affected.Add(results.Count);
                propagation.AddRange(results.Values.Select(r => r.LastMs));
                bytes.AddRange(results.Values.Select(r => (double)r.Bytes));
            }
        }
        return row with
        {
            EnrollSeconds = enrollSeconds, MeshSeconds = meshSeconds, Propagation = propagation, BytesPerAgent = bytes,
            Affected = affected, ServerRss = rss,
        };
    }

    private static async Task Send(HttpClient http, HttpMethod method, string url, object? body, string? bearer = null)
    {
        using var request = new HttpRequestMessage(method, url) { Content = body is null ? null : JsonContent.Create(body) };
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await http.SendAsync(request);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"{method} {url} → {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    internal sealed record Agent(int Index, Guid PeerId, string Session, string SigningKey);

    internal sealed record Row(int N, double CreateSeconds, List<double> Add, List<double> Block, List<double> Endpoint)
    {
        public double? EnrollSeconds { get; init; }
        public double? MeshSeconds { get; init; }
        public List<double>? Propagation { get; init; }
        public List<double>? BytesPerAgent { get; init; }
        public List<int>? Affected { get; init; }
        public long? ServerRss { get; init; }

        public const string Header =
            "| N peers | create (bulk) | add p50 / p99 | block p50 / p99 | endpoint p50 / p99 | enroll N agents | full mesh | block → all agents applied p50 / p99 / max | agents per change | bytes per agent per change | server RSS with N agents |";
        public const string Rule = "|---|---|---|---|---|---|---|---|---|---|---|";

        public static readonly (string, Func<Row, double?>)[] Scaled =
        [
            ("create (bulk)", r => r.CreateSeconds),
            ("add p50", r => P(r.Add, 0.5)), ("block p50", r => P(r.Block, 0.5)), ("endpoint p50", r => P(r.Endpoint, 0.5)),
        ];

        public static readonly (string, Func<Row, double?>)[] AgentScaled =
        [
            ("full mesh", r => r.MeshSeconds), ("propagation p99", r => r.Propagation is { Count: > 0 } p ? P(p, 0.99) : null),
            ("bytes per agent per change", r => r.BytesPerAgent is { Count: > 0 } b ? b.Average() : null),
            ("server RSS", r => r.ServerRss),
        ];

        private static double P(List<double> s, double p) => BenchStats.Percentile(s, p);
        private static string Ms(List<double> s) => string.Create(CultureInfo.InvariantCulture, $"{P(s, 0.5):F0} / {P(s, 0.99):F0} ms");

        public string Line()
        {
            var c = CultureInfo.InvariantCulture;
            string[] cells =
            [
                N.ToString("N0", c), CreateSeconds.ToString("F1", c) + " s", Ms(Add), Ms(Block), Ms(Endpoint),
                EnrollSeconds is { } e ? e.ToString("F0", c) + " s" : "—",
                MeshSeconds is { } m ? m.ToString("F0", c) + " s" : "—",
                Propagation is { Count: > 0 } p ? string.Create(c, $"{P(p, 0.5):F0} / {P(p, 0.99):F0} / {p.Max():F0} ms") : "—",
                Affected is { Count: > 0 } a ? string.Join(", ", a) : "—",
                BytesPerAgent is { Count: > 0 } b ? b.Average().ToString("F0", c) + " B" : "—",
                ServerRss is { } rss ? (rss / 1048576.0).ToString("F0", c) + " MiB" : "—",
            ];
            return "| " + string.Join(" | ", cells) + " |";
        }
    }

    /// <summary>What one agent received for one change: when its last envelope arrived, and how many bytes in all.</summary>
    internal sealed record Received(double LastMs, long Bytes);

    /// <summary>One measurement window: every envelope each agent receives after <see cref="DeltaSockets.Arm"/>.</summary>
    internal sealed class Run
    {
        public readonly Stopwatch Clock = Stopwatch.StartNew();
        private readonly ConcurrentDictionary<int, Received> _results = new();
        private long _lastActivity = Environment.TickCount64;
        private int _bad;

        public int BadSignatures => _bad;

        public void Record(int agent, long bytes, bool verified)
        {
            if (!verified) Interlocked.Increment(ref _bad);
            var at = Clock.Elapsed.TotalMilliseconds;
            _results.AddOrUpdate(agent, _ => new Received(at, bytes), (_, r) => new Received(at, r.Bytes + bytes));
            Interlocked.Exchange(ref _lastActivity, Environment.TickCount64);
        }

        /// <summary>Nothing arrived for 3 s after the last envelope (or 10 s after arming, if none did).</summary>
        public async Task SettledAsync(TimeSpan limit)
        {
            while (Clock.Elapsed < limit)
            {
                var quiet = Environment.TickCount64 - Interlocked.Read(ref _lastActivity);
                if (_results.IsEmpty ? Clock.Elapsed > TimeSpan.FromSeconds(10) : quiet > 3000) return;
                await Task.Delay(20);
            }
        }

        public IReadOnlyDictionary<int, Received> Results() => _results;
    }

    /// <summary>N agent sockets on <c>?deltas=1</c>, each verifying every envelope with the key it pinned at enrollment.</summary>
    internal sealed class DeltaSockets : IAsyncDisposable
    {
        private readonly List<(ClientWebSocket Socket, Task Loop)> _sockets = [];
        private readonly CancellationTokenSource _stop = new();
        private volatile Run? _run;
        private long _lastMessage = Environment.TickCount64;

        public static async Task<DeltaSockets> ConnectAsync(Uri server, Agent[] fleet)
        {
            var sockets = new DeltaSockets();
            var clock = Stopwatch.StartNew();
            var opened = new (ClientWebSocket, Task)[fleet.Length];
            await Parallel.ForEachAsync(fleet, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (ag, ct) =>
            {
                var socket = new ClientWebSocket();
                socket.Options.SetRequestHeader("Authorization", "Bearer " + ag.Session);
                socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(30);
                await socket.ConnectAsync(new Uri($"ws://{server.Authority}/api/v1/agent/ws?deltas=1"), ct);
                opened[ag.Index] = (socket, sockets.ReceiveLoopAsync(ag, socket));
            });
            sockets._sockets.AddRange(opened);
            Console.WriteLine($"connected {fleet.Length} delta sockets in {clock.Elapsed.TotalSeconds:F1} s");
            return sockets;
        }

        public Run Arm() => _run = new Run();

        public async Task QuiesceAsync()
        {
            _run = null;
            while (Environment.TickCount64 - Interlocked.Read(ref _lastMessage) < 1500) await Task.Delay(100);
        }

        private async Task ReceiveLoopAsync(Agent agent, ClientWebSocket socket)
        {
            var key = PublicKey.Import(SignatureAlgorithm.Ed25519, Base64Url(agent.SigningKey), KeyBlobFormat.RawPublicKey);
            var buffer = new byte[64 * 1024];
            using var message = new MemoryStream();
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    var received = await socket.ReceiveAsync(buffer, _stop.Token);
                    if (received.MessageType == WebSocketMessageType.Close) return;
                    message.Write(buffer, 0, received.Count);
                    if (!received.EndOfMessage) continue;
                    var bytes = message.Length;
                    var envelope = JsonSerializer.Deserialize(message.GetBuffer().AsSpan(0, (int)bytes), AgentProtocolJson.Default.AgentEnvelope);
                    message.SetLength(0);
                    Interlocked.Exchange(ref _lastMessage, Environment.TickCount64);
                    if (envelope is null || _run is not { } run) continue;
                    var signed = AgentEnvelopeSigning.SignedBytes(agent.PeerId, envelope.Type, envelope.NetworkVersion, envelope.PreviousVersion,
                        envelope.Payload.GetRawText());
                    run.Record(agent.Index, bytes, SignatureAlgorithm.Ed25519.Verify(key, signed, Base64Url(envelope.Signature)));
                }
            }
            catch (Exception e) when (e is OperationCanceledException or WebSocketException) { }
        }

        private static byte[] Base64Url(string text) => System.Buffers.Text.Base64Url.DecodeFromChars(text);

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            foreach (var (socket, loop) in _sockets)
            {
                try { await loop; } catch (Exception) { }
                socket.Abort();
                socket.Dispose();
            }
        }
    }
}
