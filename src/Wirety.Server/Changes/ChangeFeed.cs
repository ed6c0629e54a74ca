using System.Collections.Concurrent;
using Npgsql;
using Polly;
using Polly.Retry;
using Wirety.Projections.Agents;
using Wirety.Projections.Tokens;
using Wirety.Server.Auth;
using Wirety.Server.Auth.Sessions;
using Wirety.Server.Configs;
using Wirety.Server.Hosting;
using Wirety.Server.LiveChannel;
using Wolverine;

namespace Wirety.Server.Changes;

/// <summary>
/// Where committed changes take effect on this instance, whichever instance committed them: drop the
/// cached configs of the network, evict revoked agent sessions and API tokens, and hand the network
/// change to <see cref="NetworkChangedHandler"/> for the sockets connected here.
/// <para>
/// Changes reach every instance through PostgreSQL <c>LISTEN/NOTIFY</c> (<see cref="ChangeFeedListener"/>):
/// a NOTIFY queued in the committing transaction is sent exactly when, and only if, the commit happens,
/// and reaches every listening instance at once with no polling. Wolverine's own fan-out,
/// <c>BroadcastToAllNodesAsync</c>, was measured against it (<c>make bench BENCH=broadcast</c>): without a
/// message broker it goes through Wolverine's database control queue, which each node polls once a
/// second, so it arrived after p50 950 ms / p99 1,020 ms against NOTIFY's p50 3 ms / p99 40 ms — too slow
/// for the one-second push target, and it is not tied to the commit. What NOTIFY lacks is redelivery to an
/// instance that was not listening; the listener covers that by forgetting its caches and re-checking its
/// sockets after every reconnect.
/// </para>
/// </summary>
public sealed class ChangeFeed(ConfigCache configs, CredentialCache<AgentSession> sessions, CredentialCache<ApiToken> tokens,
    LiveHub liveHub, PeerPresence presence, IServiceProvider services, ILogger<ChangeFeed> log)
{
    public const string Channel = "wirety_changes";
    private static readonly long OwnNoticeLifetimeMs = (long)TimeSpan.FromMinutes(1).TotalMilliseconds;
    private readonly ConcurrentDictionary<string, (Lazy<Task> Applied, long At)> _own = new();

    /// <summary>This process; stamped on the notices it sends.</summary>
    public Guid InstanceId { get; } = Guid.NewGuid();

    /// <summary>
    /// Applies a notice once on this instance. This instance's own commits arrive twice — from
    /// <see cref="CommitListener"/> right after the commit and as the echo of its NOTIFY, in either
    /// order — and the first applies while the second waits for that same work. Either one alone
    /// is enough, so a lost echo or a commit hook that never ran costs nothing.
    /// </summary>
    public Task DeliverAsync(ChangeNotice notice)
    {
        // This instance's admins heard its own commits from PublishLive already.
        if (notice.Live is { } live)
        {
            if (notice.Origin != InstanceId)
            {
                liveHub.Publish(live);
                log.LogDebug("Relayed {Count} live notice(s) of commit {Commit} from instance {Origin}", live.Count, notice.Commit, notice.Origin);
            }
            return Task.CompletedTask;
        }
        if (notice.Origin != InstanceId) return ApplyAsync(notice);

        var mine = (new Lazy<Task>(() => ApplyAsync(notice)), Environment.TickCount64);
        var entry = _own.GetOrAdd(notice.Key, mine);
        if (ReferenceEquals(entry.Applied, mine.Item1)) ForgetOldOwnNotices();
        else _own.TryRemove(notice.Key, out _); // the second arrival: nothing more will come for this key
        return entry.Applied.Value;
    }

    /// <summary>
    /// Notices may have been missed (the feed was down) or are not being heard (it is down now): drop
    /// every cached config and credential, and while <paramref name="listening"/> is false stop caching.
    /// </summary>
    public async Task ResyncAsync(bool listening, bool recheckSockets)
    {
        configs.Bypass(!listening);
        sessions.Bypass(!listening);
        tokens.Bypass(!listening);
        if (recheckSockets) await PublishAsync(new ChangeFeedResumed());
    }

    /// <summary>
    /// A commit of this instance, for the admin sockets here (those on other instances get its notices
    /// from the NOTIFY). With no admin connected it builds nothing. The commit has happened: a lost
    /// notice costs an admin a refresh, never the request.
    /// </summary>
    public void PublishLive(IEnumerable<JasperFx.Events.IEvent> events)
    {
        if (!liveHub.HasListeners) return;
        try
        {
            liveHub.Publish(LiveNotices.FromCommit(events));
        }
        catch (Exception e)
        {
            log.LogError(e, "Could not publish the live notices of a commit");
        }
    }

    private async Task ApplyAsync(ChangeNotice notice)
    {
        if (notice.RevokedToken is { } tokenId)
        {
            tokens.EvictWhere(t => t.Id == tokenId);
            // Not awaited: the close frames must not hold up the revoking request (the sockets get no notice from now on).
            _ = liveHub.CloseTokenAsync(tokenId, "token revoked")
                .ContinueWith(t => log.LogError(t.Exception, "Could not close the live channels of token {TokenId}", tokenId), TaskContinuationOptions.OnlyOnFaulted);
            // Its UI sessions are refused from now on on every instance (each request re-reads the token); the
            // committing instance also deletes their rows, once.
            if (notice.Origin == InstanceId)
                _ = services.GetRequiredService<UiSessions>().EndAllOfAsync(tokenId, CancellationToken.None)
                    .ContinueWith(t => log.LogWarning(t.Exception, "Could not delete the UI sessions of revoked token {TokenId}", tokenId), TaskContinuationOptions.OnlyOnFaulted);
        }
        if (notice.Network is not { } changed) return;

        configs.InvalidateNetwork(changed.NetworkId);
        // Presence is forgotten here only, for this instance's commits and the others' alike.
        if (changed.NetworkDeleted) presence.ForgetNetwork(changed.NetworkId);
        foreach (var removed in changed.RemovedPeers) presence.Forget(removed);
        if (changed.Full || changed.NetworkDeleted)
            sessions.EvictWhere(s => s.NetworkId == changed.NetworkId);
        else if (changed.RemovedPeers.Count > 0 || changed.Enrollments.Count > 0)
            sessions.EvictWhere(s => changed.RemovedPeers.Contains(s.PeerId) || changed.Enrollments.Any(e => e.PeerId == s.PeerId));
        await PublishAsync(changed);
    }

    /// <summary>
    /// The change is committed, so this must not fail anything. A lost notice costs an agent at most
    /// one poll interval (agents also poll with ETags).
    /// </summary>
    private async Task PublishAsync(object message)
    {
        try
        {
            await using var scope = services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<IMessageBus>().PublishAsync(message);
        }
        catch (Exception e)
        {
            log.LogError(e, "Could not publish {Message} on this instance", message);
        }
    }

    /// <summary>Keys whose echo never came (the feed was down) must not pile up.</summary>
    private void ForgetOldOwnNotices()
    {
        if (_own.Count < 256) return;
        var cutoff = Environment.TickCount64 - OwnNoticeLifetimeMs;
        foreach (var (key, entry) in _own)
            if (entry.At < cutoff) _own.TryRemove(key, out _);
    }
}

/// <summary>
/// <c>LISTEN wirety_changes</c> on a dedicated connection (not pooled: it stays in LISTEN state) and
/// feeds every notice into <see cref="ChangeFeed"/>. When the connection fails the caches are dropped
/// and bypassed, <c>/readyz</c> answers 503 and the listener reconnects with backoff (a Polly retry:
/// exponential with jitter, 250 ms up to 15 s); once listening again, the caches resume empty and the
/// agent sockets here are re-checked, because notices sent in the gap are lost. Start-up waits for the
/// first LISTEN, so an instance never serves requests without hearing the others.
/// </summary>
public sealed class ChangeFeedListener(ChangeFeed feed, NoticeSigner signer, WiretySettings settings, TimeProvider clock, ILogger<ChangeFeedListener> log)
    : BackgroundService
{
    /// <summary>Forged or garbled notices are logged at most this often (with a count), so a flood of them cannot flood the log.</summary>
    private static readonly TimeSpan RefusedReportInterval = TimeSpan.FromMinutes(1);
    private long _refused, _reportedRefused, _refusedReportedAt = long.MinValue;
    private static readonly TimeSpan IdleCheck = TimeSpan.FromSeconds(15), FirstListenTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(250), MaxBackoff = TimeSpan.FromSeconds(15);
    /// <summary>A connection that listened this long was healthy: when it drops, reconnect at once and start the backoff over.</summary>
    private static readonly TimeSpan HealthySession = TimeSpan.FromSeconds(30);
    private readonly TaskCompletionSource _firstListen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _listening;
    private bool _everListened, _lostWhileListening;
    private int _failures;

    public bool IsListening => _listening;

    /// <summary>Notices dropped since start for a missing or bad signature.</summary>
    public long RefusedNotices => Interlocked.Read(ref _refused);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await base.StartAsync(cancellationToken);
        try
        {
            await _firstListen.Task.WaitAsync(FirstListenTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            log.LogWarning("Not yet listening for other instances' changes after {Timeout}; starting unready and retrying", FirstListenTimeout);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(settings.ConnectionString)
        {
            Pooling = false, Multiplexing = false, TcpKeepAlive = true,
            ApplicationName = "wirety-change-feed",
        }.ConnectionString;

        // Pay the first-use costs of parsing now rather than on the first notice from another instance.
        _ = ChangeNotice.Parse(new ChangeNotice(Guid.Empty, new NetworkChanged(Guid.Empty, 0, [], [], false)).ToPayload());

        // Retries forever: an instance that cannot hear the others must keep trying (it serves uncached meanwhile).
        var reconnect = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(_ => !stoppingToken.IsCancellationRequested),
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true, // so restarted instances do not reconnect in step
            Delay = MinBackoff,
            MaxDelay = MaxBackoff,
            OnRetry = args =>
            {
                var delay = (int)args.RetryDelay.TotalMilliseconds;
                if (_lostWhileListening || args.AttemptNumber == 0)
                    log.LogWarning(args.Outcome.Exception, "Lost the change feed from PostgreSQL; caches are off until it is back. Retrying in {Delay} ms", delay);
                else
                    log.LogDebug(args.Outcome.Exception, "Change feed attempt {Attempt} failed; retrying in {Delay} ms", _failures, delay);
                return default;
            },
        }).Build();

        try
        {
            // One call per outage: it returns when a healthy connection drops, so the next outage's backoff starts over.
            while (!stoppingToken.IsCancellationRequested)
                await reconnect.ExecuteAsync(ListenUntilLostAsync, connectionString, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Listens until the connection fails; returns after a healthy session, throws after a failed or short one (to be retried).</summary>
    private async ValueTask ListenUntilLostAsync(string connectionString, CancellationToken ct)
    {
        long? listeningSince = null;
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            connection.Notification += OnNotification;
            await connection.OpenAsync(ct);
            // Before listening: every notice heard is verified with it.
            await signer.EnsureLoadedAsync(connection, ct);
            await using (var listen = new NpgsqlCommand($"LISTEN {ChangeFeed.Channel}", connection))
                await listen.ExecuteNonQueryAsync(ct);

            // Whatever was cached before this LISTEN may be stale by a notice nobody heard.
            _listening = true;
            await feed.ResyncAsync(listening: true, recheckSockets: _everListened);
            if (_everListened) log.LogInformation("Listening for changes again after {Failures} failed attempt(s)", _failures);
            _everListened = true;
            _failures = 0;
            listeningSince = Environment.TickCount64;
            _firstListen.TrySetResult();

            while (true)
            {
                // Notifications arrive on this call. An idle connection is probed so a dead one is noticed.
                if (await connection.WaitAsync(IdleCheck, ct)) continue;
                await using var ping = new NpgsqlCommand("select 1", connection) { CommandTimeout = 10 };
                await ping.ExecuteScalarAsync(ct);
            }
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            _lostWhileListening = _listening;
            _listening = false;
            await feed.ResyncAsync(listening: false, recheckSockets: false);
            _failures++;
            if (listeningSince is not { } since || Environment.TickCount64 - since < HealthySession.TotalMilliseconds) throw;
            log.LogWarning(e, "Lost the change feed from PostgreSQL; caches are off until it is back. Reconnecting");
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        if (signer.Open(e.Payload) is not { } json)
        {
            Refused(e, "a missing or bad signature");
            return;
        }
        if (ChangeNotice.Parse(json) is not { } notice)
        {
            log.LogWarning("Ignored a malformed notice on {Channel}", e.Channel);
            return;
        }
        // The cache work runs synchronously in here; the socket work continues on the message bus.
        var delivered = feed.DeliverAsync(notice);
        if (!delivered.IsCompleted)
            _ = delivered.ContinueWith(t => log.LogError(t.Exception, "Could not apply {Notice}", notice.Key), TaskContinuationOptions.OnlyOnFaulted);
        else if (delivered.IsFaulted)
            log.LogError(delivered.Exception, "Could not apply {Notice}", notice.Key);
    }

    /// <summary>
    /// Drops a notice that is not authentic. Logged without its payload (it is the sender's text) but with the
    /// sending backend's process id, which <c>pg_stat_activity</c> maps to a role and an address.
    /// </summary>
    private void Refused(NpgsqlNotificationEventArgs e, string why)
    {
        var refused = Interlocked.Increment(ref _refused);
        var now = clock.GetTimestamp();
        var last = Interlocked.Read(ref _refusedReportedAt);
        if (last != long.MinValue && clock.GetElapsedTime(last, now) < RefusedReportInterval) return;
        if (Interlocked.CompareExchange(ref _refusedReportedAt, now, last) != last) return;
        var since = refused - Interlocked.Exchange(ref _reportedRefused, refused);
        log.LogWarning("Dropped {Count} notice(s) on {Channel} with {Why} (the last from PostgreSQL backend pid {Pid}, {Bytes} bytes); " +
                       "only the server's signed notices are acted on", since, e.Channel, why, e.PID, e.Payload.Length);
    }
}

public static class ChangeFeedRegistration
{
    /// <summary>
    /// The commit hook, the per-instance application of changes and the LISTEN service. Call after AddMarten: the
    /// listener starts after the store's schema is in place, since it loads the notice key from it before LISTEN.
    /// </summary>
    public static IServiceCollection AddChangeFeed(this IServiceCollection services)
    {
        services.AddSingleton<CommitListener>();
        services.AddSingleton<NoticeSigner>();
        services.AddSingleton<ChangeFeed>();
        services.AddSingleton<ChangeFeedListener>();
        services.AddHostedService(sp => sp.GetRequiredService<ChangeFeedListener>());
        return services;
    }
}
