using System.Net.WebSockets;

namespace Wirety.Server.Sockets;

/// <summary>What the two WebSocket endpoints (agents, admins) share before a <see cref="HubConnection"/> takes over.</summary>
public static class WebSocketEndpoint
{
    /// <summary>The WebSocket protocol's own ping/pong keeps idle sockets (and the proxies between) alive.</summary>
    public static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    /// <summary>Accepts the upgrade; a plain HTTP request gets a 400 problem instead, and null.</summary>
    public static async Task<WebSocket?> AcceptAsync(HttpContext http)
    {
        if (http.WebSockets.IsWebSocketRequest)
            return await http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = KeepAlive });
        await Results.Problem(statusCode: 400, title: "The request is invalid",
            detail: "This endpoint speaks WebSocket only; send an Upgrade: websocket request.").ExecuteAsync(http);
        return null;
    }
}
