using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;
using Wirety.Events.Agent;
using Wirety.Server.Auth;
using Wirety.Server.LiveChannel;

namespace Wirety.Server.Agents;

/// <summary>
/// The agents connected to this instance over <c>/api/v1/agent/ws</c>, by peer. The server only
/// sends (config-changed notices); keepalive is the WebSocket protocol's own ping/pong.
/// </summary>
public sealed class AgentSockets(PeerPresence presence, ILogger<AgentSockets> log)
{
    public static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<Connection, byte>> _byPeer = new();

    private sealed class Connection(WebSocket socket, AgentIdentity agent)
    {
        public WebSocket Socket { get; } = socket;
        public AgentIdentity Agent { get; } = agent;
        public SemaphoreSlim SendLock { get; } = new(1, 1); // a WebSocket allows one send at a time
    }

    public int Count => _byPeer.Values.Sum(c => c.Count);

    public bool IsConnected(Guid peerId) => _byPeer.TryGetValue(peerId, out var c) && !c.IsEmpty;

    /// <summary>The agents connected here right now.</summary>
    public IReadOnlyList<AgentIdentity> Connected() => _byPeer.Values.SelectMany(c => c.Keys).Select(c => c.Agent).ToList();

    /// <summary>Runs one agent connection until it closes.</summary>
    public async Task RunAsync(HttpContext http)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            await Results.Problem(statusCode: 400, title: "The request is invalid",
                detail: "This endpoint speaks WebSocket only; send an Upgrade: websocket request.").ExecuteAsync(http);
            return;
        }
        var agent = AgentIdentity.Of(http.User);
        using var socket = await http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = KeepAlive });
        var connection = new Connection(socket, agent);
        _byPeer.GetOrAdd(agent.PeerId, _ => new())[connection] = 0;
        presence.SocketOpened(agent.PeerId, agent.NetworkId);
        log.LogInformation("Agent for peer {PeerId} connected", agent.PeerId);
        try
        {
            var buffer = new byte[1024];
            while (socket.State == WebSocketState.Open)
            {
                var received = await socket.ReceiveAsync(buffer, http.RequestAborted);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await connection.SendLock.WaitAsync();
                    try { await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None); }
                    finally { connection.SendLock.Release(); }
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException) { } // the agent went away
        finally
        {
            presence.SocketClosed(agent.PeerId);
            if (_byPeer.TryGetValue(agent.PeerId, out var set)) set.TryRemove(connection, out _);
            log.LogInformation("Agent for peer {PeerId} disconnected", agent.PeerId);
        }
    }

    public Task NotifyConfigChangedAsync(Guid peerId, long version) => NotifyConfigChangedAsync([peerId], version);

    /// <summary>Tells the agents of these peers connected here that their config is now at <paramref name="version"/>; sends run concurrently.</summary>
    public Task NotifyConfigChangedAsync(IEnumerable<Guid> peerIds, long version)
    {
        byte[]? payload = null;
        List<Task>? sends = null;
        foreach (var peerId in peerIds)
        {
            if (!_byPeer.TryGetValue(peerId, out var connections)) continue;
            payload ??= JsonSerializer.SerializeToUtf8Bytes(
                new AgentMessage(AgentMessage.ConfigChanged, version.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                AgentProtocolJson.Default.AgentMessage);
            foreach (var connection in connections.Keys)
                (sends ??= []).Add(SendAsync(connection, c => c.Socket.SendAsync(payload, WebSocketMessageType.Text, true, CancellationToken.None)));
        }
        return sends is null ? Task.CompletedTask : Task.WhenAll(sends);
    }

    /// <summary>Closes the connections whose session is no longer valid.</summary>
    public async Task DisconnectWhereAsync(Func<AgentIdentity, bool> revoked, string reason)
    {
        foreach (var (peerId, connections) in _byPeer)
            foreach (var connection in connections.Keys.Where(c => revoked(c.Agent)))
            {
                connections.TryRemove(connection, out _);
                await SendAsync(connection, c => c.Socket.CloseOutputAsync(WebSocketCloseStatus.PolicyViolation, reason, CancellationToken.None));
                log.LogInformation("Closed the socket of peer {PeerId}: {Reason}", peerId, reason);
            }
    }

    private async Task SendAsync(Connection connection, Func<Connection, Task> send)
    {
        if (connection.Socket.State != WebSocketState.Open) return;
        await connection.SendLock.WaitAsync();
        try { await send(connection); }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or InvalidOperationException)
        {
            log.LogDebug(e, "Could not send to an agent socket that is going away");
        }
        finally { connection.SendLock.Release(); }
    }
}
