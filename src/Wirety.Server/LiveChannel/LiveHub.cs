using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Threading.Channels;
using Wirety.Server.Sockets;

namespace Wirety.Server.LiveChannel;

/// <summary>
/// The admin sockets of <c>GET /api/v1/ws</c> on this instance and the fan-out to them.
/// <see cref="Publish(LiveNotice)"/> never blocks (the commit path and the heartbeat path call it): notices
/// go into a bounded queue, and a background loop serializes each once and hands it to every socket's
/// own bounded send queue (<see cref="HubConnection"/>, shared with the agents' sockets). A client that
/// reconnects refetches what it shows, so a dropped socket loses nothing it cannot recover.
/// </summary>
public sealed class LiveHub : BackgroundService
{
    private readonly LiveChannelOptions _options;
    private readonly ILogger<LiveHub> _log;
    private readonly ConcurrentDictionary<HubConnection, LiveSocketOwner> _connections = new();
    private readonly Channel<LiveNotice> _notices;
    private long _droppedNotices, _reportedDrops;

    public LiveHub(LiveChannelOptions options, ILogger<LiveHub> log)
    {
        _options = options;
        _log = log;
        // DropOldest: a full queue loses its oldest notice instead of blocking the publisher.
        _notices = Channel.CreateBounded<LiveNotice>(
            new BoundedChannelOptions(options.NoticeQueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.DropOldest },
            _ => Interlocked.Increment(ref _droppedNotices));
    }

    public int Count => _connections.Count;

    /// <summary>Cheap check for publishers: with nobody listening there is nothing to build.</summary>
    public bool HasListeners => !_connections.IsEmpty;

    public void Publish(LiveNotice notice)
    {
        if (!_connections.IsEmpty) _notices.Writer.TryWrite(notice);
    }

    public void Publish(IReadOnlyList<LiveNotice> notices)
    {
        foreach (var notice in notices) Publish(notice);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var notice in _notices.Reader.ReadAllAsync(stoppingToken))
            {
                ReportDroppedNotices();
                if (_connections.IsEmpty) continue;
                try
                {
                    var payload = notice.ToUtf8Json();
                    foreach (var (connection, owner) in _connections)
                        if (owner.MaySee(notice) && !connection.TrySend(payload))
                            Drop(connection, $"its send queue is full ({_options.SendQueueCapacity} notices)");
                }
                catch (Exception e) { _log.LogError(e, "Could not fan out a {Type} notice", notice.Type); }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    /// <summary>
    /// Serves one accepted admin socket until it closes, is dropped, <paramref name="aborted"/> fires (the
    /// client went away) or <paramref name="stopping"/> fires (the server closes it with 1001, going away).
    /// </summary>
    public async Task ServeAsync(WebSocket socket, string who, LiveSocketOwner owner, CancellationToken aborted, CancellationToken stopping)
    {
        var connection = new HubConnection(socket, who, _options.SendQueueCapacity, _log);
        // Ready goes in first, before the socket is registered, so it precedes every notice.
        connection.TrySend(new LiveNotice(LiveNotice.Ready).ToUtf8Json());
        _connections[connection] = owner;
        _log.LogInformation("Admin live channel opened ({Who}); {Count} open", who, _connections.Count);
        try
        {
            await connection.RunAsync(aborted, stopping);
        }
        finally
        {
            _connections.TryRemove(connection, out _);
            _log.LogInformation("Admin live channel closed ({Who}); {Count} open", who, _connections.Count);
        }
    }

    /// <summary>The API tokens that have a live channel open here.</summary>
    public IReadOnlyCollection<Guid> OpenTokens() => _connections.Values.Select(o => o.TokenId).ToHashSet();

    /// <summary>Closes the sockets of a token that was revoked (1008, policy violation), on this instance.</summary>
    public Task CloseTokenAsync(Guid tokenId, string reason) => CloseWhereAsync(o => o.TokenId == tokenId, reason);

    /// <summary>The UI sessions that have a live channel open here.</summary>
    public IReadOnlyCollection<string> OpenSessions() => _connections.Values.Select(o => o.SessionId).OfType<string>().ToHashSet();

    /// <summary>Closes the sockets opened with UI sessions that have ended (1008), on this instance.</summary>
    public Task CloseSessionsAsync(IReadOnlySet<string> sessionIds, string reason) =>
        CloseWhereAsync(o => o.SessionId is { } id && sessionIds.Contains(id), reason);

    /// <summary>Closes the sockets whose token has expired by <paramref name="now"/>.</summary>
    public Task CloseExpiredAsync(DateTimeOffset now) => CloseWhereAsync(o => o.ExpiresAt <= now, "token expired");

    /// <summary>Unregisters the matching sockets at once (no notice reaches them after this returns), then closes them.</summary>
    private Task CloseWhereAsync(Func<LiveSocketOwner, bool> ended, string reason)
    {
        var closing = new List<Task>();
        foreach (var (connection, owner) in _connections)
        {
            if (!ended(owner) || !_connections.TryRemove(connection, out _)) continue;
            _log.LogInformation("Closing the admin live channel of token {TokenId} ({Who}): {Reason}", owner.TokenId, connection.Who, reason);
            closing.Add(connection.RevokeAsync(reason));
        }
        return closing.Count == 0 ? Task.CompletedTask : Task.WhenAll(closing);
    }

    private void Drop(HubConnection connection, string why)
    {
        if (_connections.TryRemove(connection, out _)) connection.Drop(why);
    }

    private void ReportDroppedNotices()
    {
        var dropped = Interlocked.Read(ref _droppedNotices);
        if (dropped == _reportedDrops) return;
        _log.LogWarning("The live channel fell behind and dropped {Count} notices", dropped - _reportedDrops);
        _reportedDrops = dropped;
    }
}

/// <summary>
/// The API token (or user) a live channel was opened with, when it expires (null: never), the networks its role is
/// limited to (null: every network; then it also gets the notices of no network) and the UI session it was opened
/// with (the session's id; null for a bearer).
/// </summary>
public sealed record LiveSocketOwner(Guid TokenId, DateTimeOffset? ExpiresAt, IReadOnlySet<Guid>? Networks = null, string? SessionId = null)
{
    public bool MaySee(LiveNotice notice) => Networks is null || (notice.NetworkId is { } id && Networks.Contains(id));
}

/// <summary>
/// Closes live channels whose API token has expired, within <see cref="LiveChannelOptions.TokenExpirySweepInterval"/>
/// of the expiry: a sweep rather than a timer per socket, so it follows the injected clock.
/// </summary>
public sealed class LiveTokenExpiry(LiveHub hub, LiveChannelOptions options, TimeProvider clock, ILogger<LiveTokenExpiry> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.TokenExpirySweepInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (hub.Count == 0) continue;
                try { await hub.CloseExpiredAsync(clock.GetUtcNow()); }
                catch (Exception e) { log.LogError(e, "The live channel's token expiry sweep failed"); }
            }
        }
        catch (OperationCanceledException) { } // stopping
    }
}
