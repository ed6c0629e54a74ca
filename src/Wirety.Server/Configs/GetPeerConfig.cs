using System.Security.Claims;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Wirety.Events.Tokens;
using Wirety.Projections.Configs;
using Wirety.Server.Auth;
using Wirety.Server.Networks;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Configs;

/// <summary>
/// The projected config of one peer: wg-quick text for admins, JSON for the peer's own agent. Strong
/// ETag; a matching If-None-Match answers 304 from memory.
/// </summary>
public static class GetPeerConfig
{
    [RequiresRole(ApiTokenRole.Admin)]
    [WolverineGet("/api/v1/networks/{networkId}/peers/{peerId}/config")]
    public static async Task<IResult> Get(
        Guid networkId, Guid peerId, HttpContext http, ConfigCache cache, IDocumentStore store, CancellationToken ct)
    {
        // ?at= asks for the config as it was then: replayed from history, never cached (History/PeerConfigHistory).
        if (http.Request.Query.ContainsKey("at"))
        {
            await using var historySession = store.QuerySession();
            return await History.PeerConfigHistory.ConfigAtAsync(networkId, peerId, http.Request.Query["at"], http, historySession, ct);
        }
        if (await cache.GetAsync(networkId, peerId, ConfigFormat.WgQuick, etag => Matches(http.Request.Headers.IfNoneMatch, etag)) is not { } config)
        {
            await using var session = store.QuerySession();
            return await session.LoadAsync<Projections.Networks.Network>(networkId, ct) is null
                ? NetworkLookup.Missing(networkId).ToResult()
                : ApiProblems.NotFound($"There is no peer {peerId} in this network.").ToResult();
        }
        return Respond(http, config, "text/plain; charset=utf-8");
    }

    /// <summary>The agent's own config; the peer comes from its session, never from the request.</summary>
    [Authorize(Policy = AgentSessionAuthentication.Policy)]
    [WolverineGet("/api/v1/agent/config")]
    public static async Task<IResult> GetForAgent(HttpContext http, ClaimsPrincipal user, ConfigCache cache)
    {
        var agent = AgentIdentity.Of(user);
        return await cache.GetAsync(agent.NetworkId, agent.PeerId, ConfigFormat.Agent, etag => Matches(http.Request.Headers.IfNoneMatch, etag)) is { } config
            ? Respond(http, config, "application/json; charset=utf-8")
            : ApiProblems.NotFound("This peer has no config (it was deleted).").ToResult();
    }

    private static IResult Respond(HttpContext http, RenderedConfig config, string contentType)
    {
        http.Response.Headers.ETag = config.ETag;
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Wirety-Config-Version"] = config.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Matches(http.Request.Headers.IfNoneMatch, config.ETag)
            ? Results.StatusCode(StatusCodes.Status304NotModified)
            : Results.Bytes(config.Body, contentType);
    }

    private static bool Matches(StringValues ifNoneMatch, string etag) =>
        EntityTagHeaderValue.TryParseList(ifNoneMatch, out var tags)
        && tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || (!t.IsWeak && t.Tag == etag));
}
