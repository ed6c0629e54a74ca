using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Polly;
using Polly.Retry;
using Wirety.Agent.Deltas;
using Wirety.Agent.Identity;
using Wirety.Agent.Logging;
using Wirety.Events.Agent;

namespace Wirety.Agent.Server;

/// <summary>
/// Holds the WebSocket to <c>/api/v1/agent/ws</c> open and reports pushes. Reconnects forever with
/// jittered exponential backoff (1 s doubling, capped at 30 s); a connection that stayed up for a
/// while starts the backoff over. Every (re)connect is reported too, since pushes sent while we were
/// away are lost and the caller must re-fetch.
/// With a pinned signing key (<paramref name="deltas"/>) it asks for deltas (<c>?deltas=1</c>) and hands on only
/// envelopes whose signature verifies; an unsigned or badly signed one is dropped, logged and reported as a
/// config change (so the caller fetches the whole config instead).
/// </summary>
public sealed class ConfigChangeListener(Uri server, Secret session, AgentLog log, TimeProvider clock, EnvelopeVerifier? deltas = null)
{
    /// <summary>A connection that lasted this long was healthy: reconnect right away after it drops.</summary>
    public static readonly TimeSpan HealthyConnection = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private const int MaxMessageBytes = 64 * 1024;

    /// <summary>Runs until <paramref name="ct"/> is cancelled.</summary>
    /// <exception cref="SessionRevokedException">The server refused the session (401 on the upgrade).</exception>
    /// <param name="onDelta">Called with each verified envelope, in the order received (delta mode only).</param>
    public async Task RunAsync(Func<Task> onConnected, Func<string?, Task> onConfigChanged, CancellationToken ct,
        Func<AgentEnvelope, Task>? onDelta = null)
    {
        var failures = 0;
        var pipeline = ReconnectPipeline(clock, (exception, delay) =>
        {
            failures++;
            var message = $"websocket: {exception?.Message}; reconnecting in {delay.TotalSeconds:0.#} s";
            // First failure and then every tenth, so an outage does not flood the journal.
            if (failures == 1 || failures % 10 == 0) log.Warn(message); else log.Debug(message);
        }, ct);

        var random = new Random();
        while (!ct.IsCancellationRequested)
        {
            await pipeline.ExecuteAsync(async token =>
            {
                var lasted = await ConnectAndListenAsync(onConnected, onConfigChanged, onDelta, () => failures = 0, token).ConfigureAwait(false);
                // A short-lived connection counts as a failure and continues the backoff (a server that
                // accepts and drops at once is not hammered); after a long one the backoff starts over.
                if (lasted < HealthyConnection)
                    throw new WebSocketException($"connection closed after {lasted.TotalSeconds:0} s");
            }, ct).ConfigureAwait(false);
            log.Info("websocket: connection closed; reconnecting");
            // Spread the reconnects of many agents when a server restarts.
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(250, 2000)), clock, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Retries forever with jittered exponential backoff (<see cref="BackoffDelay"/>), capped at <see cref="MaxBackoff"/>;
    /// everything is retried but a revoked session and our own shutdown.
    /// </summary>
    internal static ResiliencePipeline ReconnectPipeline(
        TimeProvider clock, Action<Exception?, TimeSpan> onRetry, CancellationToken ct) =>
        new ResiliencePipelineBuilder { TimeProvider = clock }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(e =>
                    e is not SessionRevokedException && !(e is OperationCanceledException && ct.IsCancellationRequested)),
                MaxRetryAttempts = int.MaxValue,
                // Exponential (1, 2, 4 ... 30 s) with "equal jitter": a random half of each step is
                // added to the other half. Polly's built-in jitter settles on exactly MaxDelay once
                // capped, which would let agents that lost the server together retry in lockstep.
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(BackoffDelay(args.AttemptNumber, Random.Shared.NextDouble())),
                OnRetry = args =>
                {
                    onRetry(args.Outcome.Exception, args.RetryDelay);
                    return default;
                },
            })
            .Build();

    /// <summary>The wait before retry <paramref name="attempt"/> (0-based), for <paramref name="random"/> in [0, 1).</summary>
    internal static TimeSpan BackoffDelay(int attempt, double random)
    {
        var step = Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, Math.Clamp(attempt, 0, 16)));
        return TimeSpan.FromSeconds(step / 2 + (step / 2 * random));
    }

    private async Task<TimeSpan> ConnectAndListenAsync(
        Func<Task> onConnected, Func<string?, Task> onConfigChanged, Func<AgentEnvelope, Task>? onDelta, Action onOpen, CancellationToken ct)
    {
        var useDeltas = deltas is not null && onDelta is not null;
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", AgentRequests.BearerValue(session));
        socket.Options.SetRequestHeader("User-Agent", $"wirety-agent/{AgentVersion.Current}");
        socket.Options.CollectHttpResponseDetails = true;
        // The server pings too; our own pings with a timeout notice a silently dead path.
        socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(20);
        socket.Options.KeepAliveTimeout = TimeSpan.FromSeconds(20);

        using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            connectTimeout.CancelAfter(TimeSpan.FromSeconds(20));
            try
            {
                await socket.ConnectAsync(AgentRequests.WebSocket(server, useDeltas), connectTimeout.Token).ConfigureAwait(false);
            }
            catch (Exception) when (socket.HttpStatusCode == HttpStatusCode.Unauthorized)
            {
                throw new SessionRevokedException("websocket");
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new WebSocketException("connect timed out after 20 s");
            }
            catch (WebSocketException e) when (socket.HttpStatusCode is { } status && status != 0 && status != HttpStatusCode.SwitchingProtocols)
            {
                throw new WebSocketException($"upgrade refused with HTTP {(int)status}", e);
            }
            catch (WebSocketException e) when (e.InnerException is { } inner)
            {
                // "Unable to connect to the remote server" alone does not say why.
                throw new WebSocketException($"{e.Message} ({inner.GetBaseException().Message})", e);
            }
        }

        var connectedAt = clock.GetUtcNow();
        onOpen();
        log.Info($"websocket: connected; listening for {(useDeltas ? "signed deltas" : "config changes")}");
        await onConnected().ConfigureAwait(false);

        var buffer = new byte[4096];
        var oversized = false;
        using var message = new MemoryStream();
        while (socket.State == WebSocketState.Open)
        {
            WebSocketReceiveResult received;
            try
            {
                received = await socket.ReceiveAsync(buffer, ct).ConfigureAwait(false);
            }
            catch (WebSocketException) when (!ct.IsCancellationRequested)
            {
                break; // dropped: the caller reconnects
            }
            if (received.MessageType == WebSocketMessageType.Close)
            {
                try
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, ct).ConfigureAwait(false);
                }
                catch (WebSocketException) { }
                break;
            }
            if (oversized)
            {
                // The rest of a message too large to keep: dropped, and the whole config fetched over HTTP instead.
                if (!received.EndOfMessage) continue;
                oversized = false;
                log.Warn($"websocket: dropped a message over {MaxMessageBytes / 1024} KiB on the delta socket; fetching the whole config");
                await onConfigChanged(null).ConfigureAwait(false);
                continue;
            }
            message.Write(buffer, 0, received.Count);
            if (message.Length > MaxMessageBytes)
            {
                // A config-replaced envelope of a large network can exceed the limit: not a reason to drop the socket.
                if (!useDeltas) throw new WebSocketException("message too large");
                message.SetLength(0);
                oversized = true;
                if (!received.EndOfMessage) continue;
                oversized = false;
                log.Warn($"websocket: dropped a message over {MaxMessageBytes / 1024} KiB on the delta socket; fetching the whole config");
                await onConfigChanged(null).ConfigureAwait(false);
                continue;
            }
            if (!received.EndOfMessage) continue;
            if (received.MessageType == WebSocketMessageType.Text && useDeltas)
            {
                await OnDeltaMessageAsync(message.ToArray(), onConfigChanged, onDelta!).ConfigureAwait(false);
            }
            else if (received.MessageType == WebSocketMessageType.Text)
            {
                var parsed = Parse(message.ToArray());
                if (parsed?.Type == AgentMessage.ConfigChanged) await onConfigChanged(parsed.Version).ConfigureAwait(false);
                else log.Debug($"websocket: ignoring message type '{parsed?.Type}'");
            }
            message.SetLength(0);
        }
        return clock.GetUtcNow() - connectedAt;
    }

    private async Task OnDeltaMessageAsync(byte[] utf8, Func<string?, Task> onConfigChanged, Func<AgentEnvelope, Task> onDelta)
    {
        var envelope = ParseEnvelope(utf8);
        // A server that does not speak deltas (yet) still pushes config-changed: that is a fetch, as before.
        if (envelope?.Type == AgentMessage.ConfigChanged && Parse(utf8) is { } push)
        {
            await onConfigChanged(push.Version).ConfigureAwait(false);
            return;
        }
        if (envelope is null || !deltas!.Verify(envelope))
        {
            // Never applied. Public facts only: the type and versions, not the payload or the signature.
            log.Warn(envelope is null
                ? "websocket: dropping an unreadable message on the delta socket; fetching the whole config"
                : $"websocket: dropping a {envelope.Type} envelope ({envelope.PreviousVersion} → {envelope.NetworkVersion}) " +
                  "without a valid signature by the pinned server key; fetching the whole config");
            await onConfigChanged(null).ConfigureAwait(false);
            return;
        }
        await onDelta(envelope).ConfigureAwait(false);
    }

    /// <summary>A delta envelope, or null if the message is not one.</summary>
    public static AgentEnvelope? ParseEnvelope(ReadOnlySpan<byte> utf8)
    {
        try
        {
            var envelope = JsonSerializer.Deserialize(utf8, AgentProtocolJson.Default.AgentEnvelope);
            return envelope?.Type is null ? null : envelope;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A server message, or null if it is not one we can read (unknown messages are ignored).</summary>
    public static AgentMessage? Parse(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return JsonSerializer.Deserialize(utf8, AgentProtocolJson.Default.AgentMessage);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>The server refused this agent's session (HTTP 401): the peer was deleted or its session revoked.</summary>
public sealed class SessionRevokedException(string where) : Exception(RevokedText)
{
    public const string RevokedText = "this peer's session was revoked (peer deleted?); re-enroll";

    /// <summary>Which call saw the 401: config, heartbeat or websocket.</summary>
    public string Where { get; } = where;
}
