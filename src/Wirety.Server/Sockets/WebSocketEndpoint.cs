using System.Globalization;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Http.Features;
using Wirety.Server.Limits;

namespace Wirety.Server.Sockets;

/// <summary>What the two WebSocket endpoints (agents, admins) share before a <see cref="HubConnection"/> takes over.</summary>
public static class WebSocketEndpoint
{
    /// <summary>The WebSocket protocol's own ping/pong keeps idle sockets (and the proxies between) alive.</summary>
    public static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Accepts the upgrade when <paramref name="credential"/> has fewer than <paramref name="cap"/> sockets open on this
    /// instance. Otherwise answers before the upgrade, and returns null: 429 problem with Retry-After over the cap,
    /// 503 when Kestrel has no room for another upgraded connection (<c>MaxUpgradedConnections</c>), 400 for a plain
    /// HTTP request. The socket's slot is held until the returned socket is disposed.
    /// </summary>
    public static async Task<CappedSocket?> AcceptAsync(HttpContext http, SocketCaps caps, string credential, int cap, string whose, TimeSpan retryAfter)
    {
        var slot = caps.TryOpen(credential, cap);
        if (slot is null)
        {
            http.Response.Headers.RetryAfter = ((long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            await RequestLimits.WriteProblemAsync(http, 429, "Too many WebSockets",
                $"This {whose} already has {cap} WebSockets open on this server (the most allowed); close one or retry later.");
            return null;
        }
        try
        {
            if (http.WebSockets.IsWebSocketRequest)
            {
                try
                {
                    return new CappedSocket(await http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = KeepAlive }), slot);
                }
                // Kestrel refuses the upgrade itself when MaxConcurrentUpgradedConnections are open.
                catch (InvalidOperationException) when (!http.Response.HasStarted)
                {
                    await NoRoomAsync(http, retryAfter);
                }
            }
            else if (AsksForWebSocket(http) && http.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: false })
                await NoRoomAsync(http, retryAfter); // the same limit, where Kestrel reports it before the upgrade
            else
                await Results.Problem(statusCode: 400, title: "The request is invalid",
                    detail: "This endpoint speaks WebSocket only; send an Upgrade: websocket request.").ExecuteAsync(http);
        }
        catch
        {
            slot.Dispose();
            throw;
        }
        slot.Dispose();
        return null;
    }

    private static async Task NoRoomAsync(HttpContext http, TimeSpan retryAfter)
    {
        http.Response.Headers.RetryAfter = ((long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        await RequestLimits.WriteProblemAsync(http, 503, "No room for another WebSocket",
            "The server has as many WebSockets open as it is configured to allow; retry later.");
    }

    private static bool AsksForWebSocket(HttpContext http) =>
        http.Request.Headers.Upgrade.Any(v => v?.Contains("websocket", StringComparison.OrdinalIgnoreCase) == true);
}

/// <summary>An accepted WebSocket and its slot under the credential's cap; disposing it frees both.</summary>
public sealed class CappedSocket(WebSocket socket, IDisposable slot) : IDisposable
{
    public WebSocket Socket { get; } = socket;

    public void Dispose()
    {
        Socket.Dispose();
        slot.Dispose();
    }
}
