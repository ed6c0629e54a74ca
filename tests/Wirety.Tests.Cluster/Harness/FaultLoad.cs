using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;

namespace Wirety.Tests.Cluster.Harness;

/// <summary>What one request under fault load got: a status with its content type and Retry-After, or no answer at all.</summary>
public sealed record Answer(string What, int Status, string? ContentType, string? RetryAfter, string Body, string Phase)
{
    public const int NoAnswer = 0;

    public bool IsServerError => Status >= 500;
    public bool IsProblem503 => Status == 503 && ContentType == "application/problem+json";

    public override string ToString() => Status == NoAnswer
        ? $"{What} [{Phase}]: no answer ({Body})"
        : $"{What} [{Phase}]: HTTP {Status} {ContentType} Retry-After={RetryAfter ?? "-"} {Body[..Math.Min(Body.Length, 300)]}";
}

/// <summary>
/// The writes a fault test acknowledged (2xx only) and every answer it got, by phase. A write counts as
/// acknowledged only when its 2xx answer arrived; one cut off mid-request may or may not have committed
/// and is not counted either way.
/// </summary>
public sealed class Ledger
{
    public ConcurrentBag<(Guid Network, Guid Peer, string Phase)> Peers { get; } = [];
    public ConcurrentBag<(Guid Token, string Phase)> Tokens { get; } = [];
    /// <summary>Per peer, the <c>uptimeSeconds</c> of each acknowledged heartbeat: unique per agent, so each one can be found again.</summary>
    public ConcurrentDictionary<Guid, ConcurrentBag<long>> Heartbeats { get; } = new();
    public ConcurrentBag<Answer> Answers { get; } = [];

    /// <summary>The phase requests are tagged with (e.g. "before", "outage", "after").</summary>
    public string Phase { get; set; } = "before";

    public int HeartbeatsAcked => Heartbeats.Values.Sum(b => b.Count);
    public int AdminAcked => Peers.Count + Tokens.Count;

    public int AckedIn(string phase) =>
        Peers.Count(p => p.Phase == phase) + Tokens.Count(t => t.Phase == phase);

    public int AnswersIn(string phase, Func<Answer, bool> match) => Answers.Count(a => a.Phase == phase && match(a));

    public string Summary(string phase)
    {
        var answers = Answers.Where(a => a.Phase == phase).ToList();
        return string.Join(", ", answers.GroupBy(a => (a.What, a.Status)).OrderBy(g => g.Key.What).ThenBy(g => g.Key.Status)
            .Select(g => $"{g.Key.What} {(g.Key.Status == Answer.NoAnswer ? "no answer" : g.Key.Status.ToString())} ×{g.Count()}"));
    }
}

/// <summary>Load loops for fault tests: admin writes and agent heartbeats that record every answer in a <see cref="Ledger"/>.</summary>
public static class FaultLoad
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Sends one request and records its answer; returns the 2xx body, or null.</summary>
    public static async Task<JsonElement?> SendAsync(Ledger ledger, string what, Func<Task<HttpResponseMessage>> send)
    {
        var phase = ledger.Phase;
        try
        {
            using var response = await send();
            var body = await response.Content.ReadAsStringAsync();
            ledger.Answers.Add(new Answer(what, (int)response.StatusCode, response.Content.Headers.ContentType?.MediaType,
                response.Headers.RetryAfter?.ToString(), body, phase));
            if (!response.IsSuccessStatusCode) return null;
            return body.Length == 0 ? default(JsonElement) : JsonDocument.Parse(body).RootElement.Clone();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            ledger.Answers.Add(new Answer(what, Answer.NoAnswer, null, null, e.GetType().Name + ": " + e.Message, phase));
            return null;
        }
    }

    /// <summary>Adds dynamic peers to <paramref name="network"/> until stopped; <paramref name="node"/> picks the instance per request.</summary>
    public static async Task AddPeersAsync(Ledger ledger, Func<ServerNode> node, Guid network, CancellationToken stop)
    {
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var target = node();
            using var admin = target.Client(ClusterFixture.AdminToken);
            var phase = ledger.Phase;
            if (await SendAsync(ledger, "add peer", () => admin.PostAsJsonAsync($"/api/v1/networks/{network}/peers", new { name = $"w{n}", kind = "dynamic" }, Json))
                is { } created)
                ledger.Peers.Add((network, created.GetProperty("id").GetGuid(), phase));
            else await Pause(ledger, stop);
        }
    }

    public static async Task IssueTokensAsync(Ledger ledger, Func<ServerNode> node, CancellationToken stop)
    {
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            using var admin = node().Client(ClusterFixture.AdminToken);
            var phase = ledger.Phase;
            if (await SendAsync(ledger, "issue token", () => admin.PostAsJsonAsync("/api/v1/tokens", new { name = $"t{n}", role = "viewer" }, Json))
                is { } issued)
                ledger.Tokens.Add((issued.GetProperty("id").GetGuid(), phase));
            else await Pause(ledger, stop);
        }
    }

    /// <summary>
    /// Heartbeats of one agent until stopped, each with the next <c>uptimeSeconds</c> (its identity in the
    /// store), and a config fetch every few beats as an agent's timer would.
    /// </summary>
    public static async Task BeatAsync(Ledger ledger, Func<ServerNode> node, Agent agent, string endpoint, CancellationToken stop)
    {
        var acked = ledger.Heartbeats.GetOrAdd(agent.PeerId, _ => []);
        for (long n = 1; !stop.IsCancellationRequested; n++)
        {
            using var client = node().Client(agent.SessionToken);
            var uptime = n;
            if (await SendAsync(ledger, "heartbeat", () => client.PostAsJsonAsync("/api/v1/agent/heartbeat",
                    new { hostname = "host", listenPort = 51820, endpoints = new[] { endpoint }, uptimeSeconds = uptime, peerStats = Array.Empty<object>() }, Json))
                is not null)
                acked.Add(uptime);
            else await Pause(ledger, stop);
            if (n % 5 == 0) await SendAsync(ledger, "agent config", () => client.GetAsync("/api/v1/agent/config"));
        }
    }

    /// <summary>A refused or unanswered request is retried after a short pause, as a client would, not in a hot loop.</summary>
    private static Task Pause(Ledger ledger, CancellationToken stop) =>
        Task.Delay(50, stop).ContinueWith(_ => { }, TaskScheduler.Default);

    /// <summary>Every <c>uptimeSeconds</c> of the peer's heartbeats the event query finds (archived ones included).</summary>
    public static async Task<HashSet<long>> StoredHeartbeatsAsync(HttpClient analyst, Guid peerId)
    {
        var found = new HashSet<long>();
        long after = 0;
        while (true)
        {
            var page = await analyst.GetFromJsonAsync<JsonElement>(
                $"/api/v1/events?type=HeartbeatReceived&peerId={peerId}&includeArchived=true&limit=1000&after={after}");
            foreach (var item in page.GetProperty("items").EnumerateArray())
                found.Add(item.GetProperty("data").GetProperty("uptimeSeconds").GetInt64());
            if (page.GetProperty("next").ValueKind != JsonValueKind.Number) return found;
            after = page.GetProperty("next").GetInt64();
        }
    }

    /// <summary>Acknowledged heartbeats the store does not have, per peer.</summary>
    public static async Task<int> MissingHeartbeatsAsync(Ledger ledger, HttpClient analyst, List<string> details)
    {
        var missing = 0;
        foreach (var (peer, acked) in ledger.Heartbeats)
        {
            var stored = await StoredHeartbeatsAsync(analyst, peer);
            var lost = acked.Where(n => !stored.Contains(n)).Order().ToList();
            if (lost.Count > 0) details.Add($"peer {peer}: {lost.Count} acknowledged heartbeat(s) missing (uptimeSeconds {string.Join(",", lost.Take(20))})");
            missing += lost.Count;
        }
        return missing;
    }
}

/// <summary>An agent's WebSocket, read in the background: every <c>config-changed</c> version it hears, with when.</summary>
public sealed class PushListener : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly Stopwatch _clock;
    private readonly Task _reading;

    private PushListener(ClientWebSocket socket, Stopwatch clock)
    {
        _socket = socket;
        _clock = clock;
        _reading = ReadAsync();
    }

    public ConcurrentQueue<(string Version, TimeSpan At)> Pushes { get; } = new();
    public bool Closed { get; private set; }

    public static async Task<PushListener> ConnectAsync(ServerNode node, Agent agent, Stopwatch clock) =>
        new(await node.ConnectAgentSocketAsync(agent.SessionToken), clock);

    public TimeSpan? Heard(string version) => Pushes.Where(p => p.Version == version).Select(p => (TimeSpan?)p.At).FirstOrDefault();

    private async Task ReadAsync()
    {
        try
        {
            while (true)
            {
                var (type, message) = await _socket.ReceiveAsync(TimeSpan.FromMinutes(10));
                if (type == WebSocketMessageType.Close) break;
                if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("type", out var t) && t.GetString() == "config-changed")
                    Pushes.Enqueue((message.GetProperty("version").ToString(), _clock.Elapsed));
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException or JsonException) { }
        Closed = true;
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Abort();
        await _reading;
        _socket.Dispose();
    }
}
