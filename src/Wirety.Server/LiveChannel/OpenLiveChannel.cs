using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using System.Security.Claims;
using Wirety.Server.Auth;
using Wirety.Server.Auth.Sessions;
using Wirety.Server.Limits;
using Wirety.Server.Sockets;

namespace Wirety.Server.LiveChannel;

/// <summary>
/// <c>GET /api/v1/ws</c>: the admin live channel, a WebSocket that streams <see cref="LiveNotice"/>s.
/// Authenticated with an admin API token, from the Authorization header or — browsers cannot set headers
/// on a WebSocket — the <c>access_token</c> query parameter, which no other endpoint accepts.
/// </summary>
public static class OpenLiveChannel
{
    public const string Path = "/api/v1/ws";
    public const string QueryTokenParameter = "access_token";

    /// <summary>
    /// Serves one live channel until it closes. A token with <see cref="LimitsOptions.SocketsPerApiToken"/> channels
    /// open here already is refused with a 429; the channel is closed (1008) when its token is revoked or expires.
    /// </summary>
    public static async Task RunAsync(HttpContext http, LiveHub hub, SocketCaps caps, IOptions<LimitsOptions> limits, IHostApplicationLifetime lifetime)
    {
        var actor = http.User.ToActor();
        var options = limits.Value;
        using var accepted = await WebSocketEndpoint.AcceptAsync(http, caps, "token:" + actor.TokenId, options.SocketsPerApiToken, "API token",
            options.SocketRetryAfter);
        if (accepted is null) return;
        await hub.ServeAsync(accepted.Socket, $"token {actor.Name} {actor.TokenId}",
            new LiveSocketOwner(actor.TokenId, http.User.TokenExpiresAt(), NetworkScope.NetworksOf(http.User), http.User.FindFirstValue(UiSessionCookie.SessionClaim)),
            http.RequestAborted, lifetime.ApplicationStopping);
    }

    /// <summary>Marks the one endpoint that takes the token from the query string.</summary>
    public sealed class QueryTokenAllowed;

    /// <summary>
    /// Before authentication: on the live channel only, moves <c>access_token</c> from the query string into
    /// the Authorization header (a header, when sent, wins) and removes it from the request's query string,
    /// so nothing later in the pipeline that reports the URL can show it.
    /// </summary>
    public static Task MoveQueryTokenAsync(HttpContext http, RequestDelegate next)
    {
        if (http.GetEndpoint()?.Metadata.GetMetadata<QueryTokenAllowed>() is not null
            && http.Request.Query.TryGetValue(QueryTokenParameter, out var token))
        {
            if (token.Count == 1 && !string.IsNullOrEmpty(token[0]) && StringValues.IsNullOrEmpty(http.Request.Headers.Authorization))
                http.Request.Headers.Authorization = "Bearer " + token[0];
            http.Request.QueryString = QueryString.Create(
                http.Request.Query.Where(q => !string.Equals(q.Key, QueryTokenParameter, StringComparison.OrdinalIgnoreCase)));
        }
        return next(http);
    }
}
