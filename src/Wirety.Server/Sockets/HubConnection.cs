using System.Net.WebSockets;
using System.Threading.Channels;

namespace Wirety.Server.Sockets;

/// <summary>
/// One server-side WebSocket of a hub (the agents' <c>/api/v1/agent/ws</c>, the admins' <c>/api/v1/ws</c>).
/// The server only sends; what the client sends is read and ignored, and its close is answered.
/// Sending never blocks the caller: <see cref="TrySend"/> puts the message in this socket's own bounded
/// queue, and one sender per socket writes them out (a WebSocket allows one send at a time). A full queue
/// means the client is too slow or dead: the hub then <see cref="Drop"/>s it, so it cannot hold up the
/// others, and the client recovers by reconnecting (both kinds of client refetch what they hold).
/// </summary>
public sealed class HubConnection
{
    private readonly WebSocket _socket;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Channel<byte[]> _outbox;
    private readonly CancellationTokenSource _dropped = new();
    private volatile bool _done;

    public HubConnection(WebSocket socket, string who, int capacity, ILogger log)
    {
        _socket = socket;
        Who = who;
        _log = log;
        _outbox = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    }

    public string Who { get; }

    /// <summary>Queues a text message; false when the queue is full (or the socket is finished).</summary>
    public bool TrySend(byte[] utf8Text) => _outbox.Writer.TryWrite(utf8Text);

    /// <summary>
    /// Serves the socket until it closes, is dropped, <paramref name="aborted"/> fires (the client went
    /// away) or <paramref name="stopping"/> fires (the server closes it with 1001, going away).
    /// </summary>
    public async Task RunAsync(CancellationToken aborted, CancellationToken stopping)
    {
        var sending = SendLoopAsync();
        var onAborted = aborted.Register(Cancel);
        var onStopping = stopping.Register(() => _ = CloseForShutdownAsync());
        try
        {
            var buffer = new byte[1024];
            while (_socket.State == WebSocketState.Open)
            {
                var received = await _socket.ReceiveAsync(buffer, _dropped.Token);
                if (received.MessageType == WebSocketMessageType.Close && _socket.State == WebSocketState.CloseReceived)
                    await CloseAsync(WebSocketCloseStatus.NormalClosure, null); // else it answered ours
            }
        }
        catch (Exception e) when (IsGone(e)) { }
        finally
        {
            _done = true;
            _outbox.Writer.TryComplete();
            await onAborted.DisposeAsync();
            await onStopping.DisposeAsync();
            if (_socket.State is not (WebSocketState.Closed or WebSocketState.Aborted)) Cancel(); // unblocks a stuck send
            await sending;
            _dropped.Dispose();
        }
    }

    /// <summary>
    /// Disconnects without waiting for the socket: a stuck send holds the send lock, so a close frame could
    /// not go out anyway. Cancelling the socket's operations aborts it; <see cref="RunAsync"/> then ends.
    /// </summary>
    public void Drop(string why)
    {
        if (_done || _dropped.IsCancellationRequested) return;
        _outbox.Writer.TryComplete();
        _log.LogWarning("Disconnected a WebSocket ({Who}): {Why}", Who, why);
        try { _socket.Abort(); }
        catch (ObjectDisposedException) { }
        Cancel();
    }

    /// <summary>Sends a close frame (after the send in progress, not after the queued ones); the client's answering close ends <see cref="RunAsync"/>.</summary>
    public async Task CloseAsync(WebSocketCloseStatus status, string? description)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _sendLock.WaitAsync(timeout.Token);
            try
            {
                if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                    await _socket.CloseOutputAsync(status, description, timeout.Token);
            }
            finally { _sendLock.Release(); }
        }
        catch (Exception e) when (IsGone(e)) { }
    }

    /// <summary>
    /// Ends the socket because its credential is no longer valid (revoked, expired): a close frame with 1008
    /// (policy violation), which the clients take as "check your credential"; a client that does not answer
    /// the close within 5 s is disconnected, so a revoked credential cannot keep a socket open.
    /// </summary>
    public async Task RevokeAsync(string reason)
    {
        _outbox.Writer.TryComplete(); // nothing more for it
        await CloseAsync(WebSocketCloseStatus.PolicyViolation, reason);
        try { _dropped.CancelAfter(TimeSpan.FromSeconds(5)); }
        catch (ObjectDisposedException) { } // it finished on its own meanwhile
    }

    private async Task SendLoopAsync()
    {
        try
        {
            await foreach (var payload in _outbox.Reader.ReadAllAsync(_dropped.Token))
            {
                await _sendLock.WaitAsync(_dropped.Token);
                try
                {
                    if (_socket.State != WebSocketState.Open) continue; // closing: the rest would not be read
                    await _socket.SendAsync(payload, WebSocketMessageType.Text, true, _dropped.Token);
                }
                finally { _sendLock.Release(); }
            }
        }
        catch (Exception e) when (IsGone(e))
        {
            if (!_dropped.IsCancellationRequested) Drop("sending failed");
        }
    }

    private async Task CloseForShutdownAsync()
    {
        await CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "server stopping");
        try { _dropped.CancelAfter(TimeSpan.FromSeconds(5)); } // the client's answering close, or abort
        catch (ObjectDisposedException) { }
    }

    /// <summary>Cancels the socket's pending receive and send (which aborts it).</summary>
    private void Cancel()
    {
        try { _dropped.Cancel(); }
        catch (ObjectDisposedException) { } // it finished on its own meanwhile
    }

    private static bool IsGone(Exception e) =>
        e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException;
}
