using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Threading.Channels;

namespace Wirety.Server.LiveChannel;

/// <summary>
/// The admin sockets of <c>GET /api/v1/ws</c> on this instance and the fan-out to them.
/// <see cref="Publish(LiveNotice)"/> never blocks (the commit path and the heartbeat path call it): notices
/// go into a bounded queue, and a background loop serializes each once and hands it to every socket's
/// own bounded send queue. Each socket has one sender (one send at a time); a socket whose queue is full
/// is too slow or dead and is disconnected, so it cannot hold up the others. A client that reconnects
/// refetches what it shows, so a dropped socket loses nothing it cannot recover.
/// </summary>
public sealed class LiveHub : BackgroundService
{
    private readonly LiveChannelOptions _options;
    private readonly ILogger<LiveHub> _log;
    private readonly ConcurrentDictionary<Connection, byte> _connections = new();
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

    private sealed class Connection(WebSocket socket, string who, int capacity)
    {
        public WebSocket Socket { get; } = socket;
        public string Who { get; } = who;
        public SemaphoreSlim SendLock { get; } = new(1, 1); // a WebSocket allows one send at a time
        public Channel<byte[]> Outbox { get; } = Channel.CreateBounded<byte[]>(
            new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        public CancellationTokenSource Dropped { get; } = new();
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
                    foreach (var connection in _connections.Keys)
                        if (!connection.Outbox.Writer.TryWrite(payload))
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
    /// The server only sends; what the client sends is read and ignored, and its close is answered.
    /// </summary>
    public async Task ServeAsync(WebSocket socket, string who, CancellationToken aborted, CancellationToken stopping)
    {
        var connection = new Connection(socket, who, _options.SendQueueCapacity);
        // Ready goes in first, before the socket is registered, so it precedes every notice.
        connection.Outbox.Writer.TryWrite(new LiveNotice(LiveNotice.Ready).ToUtf8Json());
        _connections[connection] = 0;
        _log.LogInformation("Admin live channel opened ({Who}); {Count} open", who, _connections.Count);
        var sending = SendLoopAsync(connection);
        var onAborted = aborted.Register(() => Cancel(connection));
        var onStopping = stopping.Register(() => _ = CloseForShutdownAsync(connection));
        try
        {
            var buffer = new byte[1024];
            while (socket.State == WebSocketState.Open)
            {
                var received = await socket.ReceiveAsync(buffer, connection.Dropped.Token);
                if (received.MessageType == WebSocketMessageType.Close && socket.State == WebSocketState.CloseReceived)
                    await CloseAsync(connection, WebSocketCloseStatus.NormalClosure, null); // else it answered ours
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException) { } // gone
        finally
        {
            _connections.TryRemove(connection, out _);
            connection.Outbox.Writer.TryComplete();
            await onAborted.DisposeAsync();
            await onStopping.DisposeAsync();
            if (socket.State is not (WebSocketState.Closed or WebSocketState.Aborted)) Cancel(connection); // unblocks a stuck send
            await sending;
            connection.Dropped.Dispose();
            _log.LogInformation("Admin live channel closed ({Who}); {Count} open", who, _connections.Count);
        }
    }

    private async Task SendLoopAsync(Connection connection)
    {
        try
        {
            await foreach (var payload in connection.Outbox.Reader.ReadAllAsync(connection.Dropped.Token))
            {
                await connection.SendLock.WaitAsync(connection.Dropped.Token);
                try { await connection.Socket.SendAsync(payload, WebSocketMessageType.Text, true, connection.Dropped.Token); }
                finally { connection.SendLock.Release(); }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            if (!connection.Dropped.IsCancellationRequested) Drop(connection, "sending failed");
        }
    }

    /// <summary>
    /// Disconnects without waiting for the socket: a stuck send holds the send lock, so a close frame could
    /// not go out anyway. Cancelling the socket's operations aborts it; its receive loop then cleans up.
    /// </summary>
    private void Drop(Connection connection, string why)
    {
        if (!_connections.TryRemove(connection, out _)) return;
        connection.Outbox.Writer.TryComplete();
        _log.LogWarning("Disconnected an admin live channel ({Who}): {Why}", connection.Who, why);
        try { connection.Socket.Abort(); }
        catch (ObjectDisposedException) { }
        Cancel(connection);
    }

    /// <summary>Cancels the socket's pending receive and send (which aborts it).</summary>
    private static void Cancel(Connection connection)
    {
        try { connection.Dropped.Cancel(); }
        catch (ObjectDisposedException) { } // it finished on its own meanwhile
    }

    private static async Task CloseForShutdownAsync(Connection connection)
    {
        await CloseAsync(connection, WebSocketCloseStatus.EndpointUnavailable, "server stopping");
        try { connection.Dropped.CancelAfter(TimeSpan.FromSeconds(5)); } // the client's answering close, or abort
        catch (ObjectDisposedException) { }
    }

    private static async Task CloseAsync(Connection connection, WebSocketCloseStatus status, string? description)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await connection.SendLock.WaitAsync(timeout.Token);
            try { await connection.Socket.CloseOutputAsync(status, description, timeout.Token); }
            finally { connection.SendLock.Release(); }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException) { }
    }

    private void ReportDroppedNotices()
    {
        var dropped = Interlocked.Read(ref _droppedNotices);
        if (dropped == _reportedDrops) return;
        _log.LogWarning("The live channel fell behind and dropped {Count} notices", dropped - _reportedDrops);
        _reportedDrops = dropped;
    }
}
