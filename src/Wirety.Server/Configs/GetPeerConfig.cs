using System.Security.Claims;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
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
    [WolverineGet("/api/v1/networks/{networkId}/peers/{peerId}/config")]
    public static async Task<IResult> Get(
        Guid networkId, Guid peerId, HttpContext http, ConfigCache cache, IDocumentStore store, CancellationToken ct)
    {
        // ?at= asks for the config as it was then: replayed from history, never cached (History/PeerConfigHistory).
        if (http.Request.Query.ContainsKey("at"))
        {
            await using var historySession = store.QuerySession();
            return await History.PeerConfigHistory.ConfigAtAsync(networkId, peerId, http.Request.Query["at"], historySession, ct);
        }
        if (await LoadAsync(networkId, peerId, cache, store, ct) is not { } doc)
        {
            await using var session = store.QuerySession();
            return await session.LoadAsync<Projections.Networks.Network>(networkId, ct) is null
                ? NetworkLookup.Missing(networkId).ToResult()
                : Rejection.NotFound($"There is no peer {peerId} in this network.").ToResult();
        }
        return Respond(http, doc.ETag, doc.Version, doc.Text, "text/plain; charset=utf-8");
    }

    /// <summary>The agent's own config; the peer comes from its session, never from the request.</summary>
    [Authorize(Policy = AgentSessionAuthentication.Policy)]
    [WolverineGet("/api/v1/agent/config")]
    public static async Task<IResult> GetForAgent(HttpContext http, ClaimsPrincipal user, ConfigCache cache, IDocumentStore store, CancellationToken ct)
    {
        var agent = AgentIdentity.Of(user);
        return await LoadAsync(agent.NetworkId, agent.PeerId, cache, store, ct) is { } doc
            ? Respond(http, doc.AgentETag, doc.Version, doc.AgentJson, "application/json; charset=utf-8")
            : Rejection.NotFound("This peer has no config (it was deleted).").ToResult();
    }

    private static ValueTask<PeerConfigDocument?> LoadAsync(Guid networkId, Guid peerId, ConfigCache cache, IDocumentStore store, CancellationToken ct) =>
        cache.GetAsync(networkId, peerId, async () =>
        {
            await using var session = store.QuerySession();
            return await session.LoadAsync<PeerConfigDocument>(peerId, ct);
        });

    private static IResult Respond(HttpContext http, string etag, long version, string body, string contentType)
    {
        http.Response.Headers.ETag = etag;
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Wirety-Config-Version"] = version.ToString();
        return Matches(http.Request.Headers.IfNoneMatch, etag)
            ? Results.StatusCode(StatusCodes.Status304NotModified)
            : Results.Text(body, contentType);
    }

    private static bool Matches(StringValues ifNoneMatch, string etag) =>
        EntityTagHeaderValue.TryParseList(ifNoneMatch, out var tags)
        && tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || (!t.IsWeak && t.Tag == etag));
}
