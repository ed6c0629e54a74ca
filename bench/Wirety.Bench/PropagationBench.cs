using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Wirety.Server.Peers;
using Wirety.Testing;

namespace Wirety.Bench;

/// <summary>
/// Propagation: N simulated agents (1 jump + N−1 dynamic) hold the agent WebSocket and an ETag of their
/// config; an admin blocks one peer; per affected agent we time block call → config-changed received, and
/// block call → new config fetched (If-None-Match with the held ETag → 200). Scenarios: (a) hub-and-spoke
/// (no endpoints known, block the jump: every config changes), (b) full mesh (every dynamic peer's endpoint
/// known, block one dynamic peer: ~N configs of ~N entries change). Each with one and with two server
/// processes on one database (agents split between them, the block sent to A).
/// </summary>
public static class PropagationBench
{
    private const double TargetMs = 1000;

    public static async Task<int> RunAsync(string[] args)
    {
        var agents = BenchArgs.Int(args, "--agents", 1000);
        var rounds = BenchArgs.Int(args, "--rounds", 2);
        var only = Array.IndexOf(args, "--instances") is var i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : 0;
        var scenarios = Array.IndexOf(args, "--scenario") is var s and >= 0 && s + 1 < args.Length ? args[s + 1] : "hub,mesh";

        var cluster = await PostgresCluster.SharedAsync();
        var db = await cluster.CreateDatabaseAsync("wirety_propagation");
        var results = new List<string>();

        await using var a = await ServerProcess.StartAsync(db);
        ServerProcess? b = null;
        try
        {
            using var admin = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 16 }) { BaseAddress = a.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServerProcess.AdminToken);

            var setup = Stopwatch.StartNew();
            var net = (await BenchHttp.PostJson(admin, "/api/v1/networks", new { name = "prop", cidr = "10.80.0.0/20" })).GetProperty("id").GetGuid();
            var jumpCreated = await BenchHttp.PostJson(admin, $"/api/v1/networks/{net}/peers",
                new { name = "hub", kind = "jump", endpoint = "198.18.0.1:51820", listenPort = 51820 });
            var tokens = new string[agents];
            tokens[0] = jumpCreated.GetProperty("enrollmentToken").GetString()!;
            await Parallel.ForEachAsync(Enumerable.Range(1, agents - 1), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (n, _) =>
                tokens[n] = (await BenchHttp.PostJson(admin, $"/api/v1/networks/{net}/peers", new { name = $"dyn-{n}", kind = "dynamic" }))
                    .GetProperty("enrollmentToken").GetString()!);
            Console.WriteLine($"created {agents} peers in {setup.Elapsed.TotalSeconds:F1} s");

            var fleet = new Agent[agents];
            setup.Restart();
            await Parallel.ForEachAsync(Enumerable.Range(0, agents), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (n, _) =>
            {
                var enrolled = await BenchHttp.PostJson(admin, "/api/v1/agent/enroll",
                    new { token = tokens[n], publicKey = WireGuardKeyPair.Generate().PublicKey, hostname = $"host-{n}" });
                fleet[n] = new Agent(n, enrolled.GetProperty("peerId").GetGuid(), enrolled.GetProperty("sessionToken").GetString()!);
            });
            Console.WriteLine($"enrolled {agents} agents in {setup.Elapsed.TotalSeconds:F1} s");
            var jump = fleet[0];

            await using var clients = new Clients(a.BaseAddress);
            await clients.ConnectAsync(fleet, _ => 0);

            if (scenarios.Contains("hub"))
            {
                if (only is 0 or 1) results.Add(await MeasureAsync("hub-and-spoke, block the jump", 1, clients, fleet, admin, net, jump, rounds));
                if (only is 0 or 2)
                {
                    b ??= await ServerProcess.StartAsync(db);
                    clients.AddInstance(b.BaseAddress);
                    await clients.ConnectAsync(fleet, ag => ag.Index % 2);
                    results.Add(await MeasureAsync("hub-and-spoke, block the jump", 2, clients, fleet, admin, net, jump, rounds));
                }
            }

            if (scenarios.Contains("mesh"))
            {
                // Endpoints: one heartbeat per dynamic agent reporting where it listens; detection records it
                // (EndpointChanged) off the request path. Wait until the network stream stops moving.
                setup.Restart();
                var http = clients.Http(0);
                await Parallel.ForEachAsync(fleet.Skip(1), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (ag, ct) =>
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/agent/heartbeat")
                    {
                        Content = JsonContent.Create(new
                        {
                            hostname = $"host-{ag.Index}", listenPort = 51820,
                            endpoints = new[] { $"198.18.{ag.Index / 250 + 1}.{ag.Index % 250 + 1}:51820" }, uptimeSeconds = 10,
                        }),
                    };
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ag.Session);
                    using var response = await http.SendAsync(request, ct);
                    if (response.StatusCode != HttpStatusCode.NoContent)
                        throw new InvalidOperationException($"heartbeat → {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
                });
                await WaitForEndpointsAsync(admin, net, fleet.Length - 1, TimeSpan.FromMinutes(30));
                await WaitUntilQuietAsync(admin, net, TimeSpan.FromMinutes(30));
                var meshEntries = await clients.EntriesOfAsync(fleet[1], 0);
                Console.WriteLine($"mesh formed in {setup.Elapsed.TotalSeconds:F1} s: a dynamic peer's config holds {meshEntries} entries");
                var victim = fleet[agents / 2];
                if (only is 0 or 2)
                {
                    b ??= await ServerProcess.StartAsync(db);
                    if (clients.Instances < 2) clients.AddInstance(b.BaseAddress);
                    await clients.ConnectAsync(fleet, ag => ag.Index % 2);
                    results.Add(await MeasureAsync($"full mesh ({meshEntries} entries per config), block one dynamic peer", 2, clients, fleet, admin, net, victim, rounds));
                }
                if (only is 0 or 1)
                {
                    await clients.ConnectAsync(fleet, _ => 0);
                    if (b is not null) { await b.DisposeAsync(); b = null; }
                    results.Add(await MeasureAsync($"full mesh ({meshEntries} entries per config), block one dynamic peer", 1, clients, fleet, admin, net, victim, rounds));
                }
            }
        }
        finally
        {
            if (b is not null) await b.DisposeAsync();
        }

        Console.WriteLine();
        Console.WriteLine($"## Wirety bench — propagation ({agents} agents over WebSocket, {rounds} round(s) per scenario)");
        Console.WriteLine($"client, server process(es) and PostgreSQL share this machine's {Environment.ProcessorCount} cores; times are from just before the block call");
        foreach (var line in results) Console.WriteLine(line);
        return 0;
    }

    internal sealed record Agent(int Index, Guid PeerId, string Session);

    /// <summary>
    /// One block (and an unmeasured unblock) per round. An agent counts as affected when it receives a
    /// push; every agent that got none is checked afterwards with its held ETag (a 200 there is a missed push).
    /// </summary>
    private static async Task<string> MeasureAsync(string scenario, int instances, Clients clients, Agent[] fleet, HttpClient admin,
        Guid net, Agent target, int rounds)
    {
        var pushes = new List<double>();
        var fetches = new List<double>();
        var blockCalls = new List<double>();
        var affectedCounts = new List<int>();
        var missed = 0;
        var errors = 0;
        var load = new List<string>();
        // Round 0 warms up: the first notice a fresh process handles pays for JIT and Wolverine's handler codegen.
        for (var round = 0; round <= rounds; round++)
        {
            foreach (var (action, measured) in new[] { ("block", round > 0), ("unblock", false) })
            {
                await clients.QuiesceAsync();
                var run = clients.Arm();
                var clock = Stopwatch.StartNew();
                using (var response = await admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers/{target.PeerId}/{action}", new { reason = "bench" }))
                    if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{action} → {(int)response.StatusCode}");
                var answered = clock.Elapsed.TotalMilliseconds;
                await run.SettledAsync(TimeSpan.FromSeconds(60));
                var (results, wrong) = run.Results();
                // Agents without a push: their config must be unchanged (304 with the ETag they hold).
                var unpushed = fleet.Where(ag => !results.ContainsKey(ag.Index)).ToList();
                var stale = await clients.CountChangedAsync(unpushed);
                if (!measured) continue;
                load.Add(File.ReadAllText("/proc/loadavg").Split(' ')[0]);
                blockCalls.Add(answered);
                affectedCounts.Add(results.Count);
                pushes.AddRange(results.Values.Select(r => r.PushMs));
                fetches.AddRange(results.Values.Select(r => r.FetchedMs));
                missed += stale;
                errors += wrong;
            }
        }
        var p99 = BenchStats.Percentile(fetches, 0.99);
        var report = $"""

            {scenario}, {instances} instance(s){(instances > 1 ? " (agents split A/B, block through A)" : "")}:
              affected agents per block: {string.Join(", ", affectedCounts)}; missed (changed but no push): {missed}; failed fetches: {errors}; 1-min load average after each: {string.Join(", ", load)}
              block call answered:          {BenchStats.Summary(blockCalls)}
              → config-changed received:    {BenchStats.Summary(pushes)}
              → new config fetched (200):   {BenchStats.Summary(fetches)}
              target p99 ≤ {TargetMs:F0} ms → p99 is {p99 / TargetMs:P0} of target ({(p99 <= TargetMs ? "met" : "MISSED")})
            """;
        Console.WriteLine(report);
        return report;
    }

    /// <summary>
    /// Waits until <paramref name="expected"/> peers of the network have an observed endpoint. Detection records endpoints
    /// off the request path, one network-stream append each; at 1,000 peers one append re-renders many configs and can
    /// take longer than <see cref="WaitUntilQuietAsync"/>'s poll interval, so a quiet stream alone does not prove they
    /// have all landed (they then kept landing during the measurement and changed most configs).
    /// </summary>
    internal static async Task WaitForEndpointsAsync(HttpClient admin, Guid net, int expected, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var peers = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/networks/{net}/peers");
            var observed = peers.EnumerateArray().Count(p => p.TryGetProperty("observedEndpoint", out var e) && e.ValueKind == JsonValueKind.String);
            if (observed >= expected) return;
            if (clock.Elapsed > limit) throw new TimeoutException($"only {observed} of {expected} endpoints recorded after {limit}");
            await Task.Delay(2000);
        }
    }

    internal static async Task WaitUntilQuietAsync(HttpClient admin, Guid net, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        for (long last = -1, version; clock.Elapsed < limit; last = version)
        {
            version = (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/networks/{net}")).GetProperty("version").GetInt64();
            if (version == last) return;
            await Task.Delay(3000);
        }
        throw new TimeoutException($"the network stream was still moving after {limit}");
    }


    internal sealed record Outcome(double PushMs, double FetchedMs);

    /// <summary>One measurement window: the first push each agent receives after <see cref="Clients.Arm"/>.</summary>
    internal sealed class Run(int total)
    {
        public readonly Stopwatch Clock = Stopwatch.StartNew();
        private readonly ConcurrentDictionary<int, Outcome> _results = new();
        private readonly ConcurrentDictionary<int, byte> _claimed = new();
        private int _inFlight, _wrong;
        private long _lastActivity = Environment.TickCount64;

        public bool Claim(int index)
        {
            if (!_claimed.TryAdd(index, 0)) return false;
            Interlocked.Increment(ref _inFlight);
            Touch();
            return true;
        }

        public void Done(int index, double pushMs, double? fetchedMs)
        {
            if (fetchedMs is { } f) _results[index] = new Outcome(pushMs, f);
            else Interlocked.Increment(ref _wrong);
            Interlocked.Decrement(ref _inFlight);
            Touch();
        }

        private void Touch() => Interlocked.Exchange(ref _lastActivity, Environment.TickCount64);

        /// <summary>All agents answered, or nothing new happened for 3 s (the rest were not affected).</summary>
        public async Task SettledAsync(TimeSpan limit)
        {
            while (Clock.Elapsed < limit)
            {
                if (_claimed.Count == total && Volatile.Read(ref _inFlight) == 0) return;
                if (Volatile.Read(ref _inFlight) == 0 && Environment.TickCount64 - Interlocked.Read(ref _lastActivity) > 3000) return;
                await Task.Delay(20);
            }
        }

        public (IReadOnlyDictionary<int, Outcome>, int Wrong) Results() => (_results, _wrong);
    }

    /// <summary>The simulated agents' sockets and HTTP clients, over one or two instances.</summary>
    internal sealed class Clients(Uri first) : IAsyncDisposable
    {
        private readonly List<Uri> _instances = [first];
        private readonly List<HttpClient> _http = [NewHttp(first)];
        private readonly ConcurrentDictionary<int, string> _etags = new();
        private readonly ConcurrentDictionary<int, int> _home = new();
        private readonly List<(ClientWebSocket Socket, Task Loop, CancellationTokenSource Stop)> _sockets = [];
        private volatile Run? _run;
        private long _lastMessage = Environment.TickCount64;

        public int Instances => _instances.Count;
        public HttpClient Http(int instance) => _http[instance];

        private static HttpClient NewHttp(Uri baseAddress) =>
            new(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10) })
            { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(2) };

        public void AddInstance(Uri baseAddress)
        {
            _instances.Add(baseAddress);
            _http.Add(NewHttp(baseAddress));
        }

        /// <summary>(Re)connects every agent's socket to its instance and fetches its config once (holding the ETag).</summary>
        public async Task ConnectAsync(Agent[] fleet, Func<Agent, int> instanceOf)
        {
            await CloseAllAsync();
            var clock = Stopwatch.StartNew();
            var opened = new (ClientWebSocket, Task, CancellationTokenSource)[fleet.Length];
            await Parallel.ForEachAsync(fleet, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (ag, ct) =>
            {
                var instance = instanceOf(ag);
                _home[ag.Index] = instance;
                var socket = new ClientWebSocket();
                socket.Options.SetRequestHeader("Authorization", "Bearer " + ag.Session);
                socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(30);
                await socket.ConnectAsync(new Uri($"ws://{_instances[instance].Authority}/api/v1/agent/ws"), ct);
                var stop = new CancellationTokenSource();
                opened[ag.Index] = (socket, ReceiveLoopAsync(ag, socket, stop.Token), stop);
                var (status, etag, _) = await FetchAsync(ag, null);
                if (status != HttpStatusCode.OK) throw new InvalidOperationException($"first config fetch → {(int)status}");
                _etags[ag.Index] = etag!;
            });
            _sockets.AddRange(opened);
            Console.WriteLine($"connected {fleet.Length} agent sockets over {_instances.Count} instance(s) and fetched their configs in {clock.Elapsed.TotalSeconds:F1} s");
        }

        public Run Arm() => _run = new Run(_sockets.Count);

        /// <summary>Waits until no socket message has arrived for 1.5 s (pushes of earlier commits drained).</summary>
        public async Task QuiesceAsync()
        {
            _run = null;
            while (Environment.TickCount64 - Interlocked.Read(ref _lastMessage) < 1500) await Task.Delay(100);
        }

        public async Task<int> EntriesOfAsync(Agent agent, int instance)
        {
            var (_, _, body) = await FetchAsync(agent, null, instance, keepBody: true);
            return JsonDocument.Parse(body!).RootElement.GetProperty("peers").GetArrayLength();
        }

        /// <summary>How many of these agents' configs no longer match the ETag they hold.</summary>
        public async Task<int> CountChangedAsync(IReadOnlyList<Agent> agents)
        {
            var changed = 0;
            await Parallel.ForEachAsync(agents, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (ag, _) =>
            {
                var (status, etag, _) = await FetchAsync(ag, _etags[ag.Index]);
                if (status == HttpStatusCode.NotModified) return;
                Interlocked.Increment(ref changed);
                if (etag is not null) _etags[ag.Index] = etag;
            });
            return changed;
        }

        private async Task<(HttpStatusCode Status, string? ETag, byte[]? Body)> FetchAsync(Agent agent, string? ifNoneMatch, int? instance = null, bool keepBody = false)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/agent/config");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", agent.Session);
            if (ifNoneMatch is not null) request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
            using var response = await _http[instance ?? _home[agent.Index]].SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            // Read it all, as an agent would; kept only when asked (a mesh config is ~130 KB).
            byte[]? body = null;
            if (keepBody) body = await response.Content.ReadAsByteArrayAsync();
            else await (await response.Content.ReadAsStreamAsync()).CopyToAsync(Stream.Null);
            return (response.StatusCode, response.Headers.ETag?.ToString(), body);
        }

        private async Task ReceiveLoopAsync(Agent agent, ClientWebSocket socket, CancellationToken stop)
        {
            var buffer = new byte[4096];
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    var received = await socket.ReceiveAsync(buffer, stop);
                    if (received.MessageType == WebSocketMessageType.Close) return;
                    Interlocked.Exchange(ref _lastMessage, Environment.TickCount64);
                    if (_run is not { } run || !run.Claim(agent.Index)) continue;
                    var pushMs = run.Clock.Elapsed.TotalMilliseconds;
                    double? fetchedMs = null;
                    try
                    {
                        var (status, etag, _) = await FetchAsync(agent, _etags[agent.Index]);
                        if (status == HttpStatusCode.OK)
                        {
                            fetchedMs = run.Clock.Elapsed.TotalMilliseconds;
                            _etags[agent.Index] = etag!;
                        }
                    }
                    catch (HttpRequestException) { }
                    run.Done(agent.Index, pushMs, fetchedMs);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or WebSocketException) { }
        }

        private async Task CloseAllAsync()
        {
            foreach (var (socket, loop, stop) in _sockets)
            {
                stop.Cancel();
                try { await loop; } catch (Exception) { }
                socket.Abort();
                socket.Dispose();
                stop.Dispose();
            }
            _sockets.Clear();
        }

        public async ValueTask DisposeAsync()
        {
            await CloseAllAsync();
            foreach (var http in _http) http.Dispose();
        }
    }
}
