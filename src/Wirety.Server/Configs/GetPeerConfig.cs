using Marten;
using Microsoft.Net.Http.Headers;
using Wirety.Projections.Configs;
using Wirety.Server.Networks;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Configs;

public static class GetPeerConfig
{
    /// <summary>
    /// The peer's wg-quick config as projected (private key line as a comment). Strong ETag; a matching
    /// If-None-Match answers 304 from memory.
    /// </summary>
    [WolverineGet("/api/v1/networks/{networkId}/peers/{peerId}/config")]
    public static async Task<IResult> Get(
        Guid networkId, Guid peerId, HttpContext http, ConfigCache cache, IDocumentStore store, CancellationToken ct)
    {
        var entry = await cache.GetAsync(networkId, peerId, async () =>
        {
            await using var session = store.QuerySession();
            return await session.LoadAsync<PeerConfigDocument>(peerId, ct);
        });
        if (entry is null)
        {
            await using var session = store.QuerySession();
            return await session.LoadAsync<Projections.Networks.Network>(networkId, ct) is null
                ? NetworkLookup.Missing(networkId).ToResult()
                : Rejection.NotFound($"There is no peer {peerId} in this network.").ToResult();
        }

        http.Response.Headers.ETag = entry.ETag;
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Wirety-Config-Version"] = entry.Version.ToString();
        if (Matches(http.Request.Headers.IfNoneMatch, entry.ETag)) return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Text(entry.Text, "text/plain; charset=utf-8");
    }

    private static bool Matches(Microsoft.Extensions.Primitives.StringValues ifNoneMatch, string etag) =>
        EntityTagHeaderValue.TryParseList(ifNoneMatch, out var tags)
        && tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || (!t.IsWeak && t.Tag == etag));
}
