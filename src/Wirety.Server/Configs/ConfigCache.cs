using System.Collections.Concurrent;
using Marten;
using Wirety.Projections.Configs;

namespace Wirety.Server.Configs;

/// <summary>
/// Configs rendered on demand and kept in memory per network version, so an unchanged config answers
/// 304 (and a changed one 200) without a database round trip. Per network one <see cref="ConfigSource"/>
/// is loaded (once, shared by every request and by the push handler) and each peer's config is rendered
/// from it on first read (<see cref="ConfigRenderer"/>, which shares the work between a mesh's configs). Invalidated per network by <see cref="Changes.ChangeFeed"/> for every commit
/// that touched the network's stream, on whichever instance it was committed — one place, so no write
/// path can forget it.
/// </summary>
public sealed class ConfigCache(IServiceProvider services)
{
    // One bucket per network; invalidation swaps the bucket, so a reader that loaded before a commit can
    // only fill the orphaned bucket, never resurrect stale data in the live one.
    private readonly ConcurrentDictionary<Guid, Bucket> _networks = new();
    private volatile bool _bypass;

    private sealed class Bucket(Func<Task<ConfigRenderer?>> load)
    {
        public Lazy<Task<ConfigRenderer?>> Renderer { get; } = new(load);
        public ConcurrentDictionary<(Guid PeerId, ConfigFormat Format), RenderedConfig> Rendered { get; } = new();
    }

    /// <summary>
    /// Agent JSON bodies up to this size are kept; larger ones (a mesh member's config: ~130 bytes per
    /// entry) keep only their version and ETag, which is all a 304 needs, and are spliced again for a 200
    /// (an agent fetches a new version once). Keeping them all would hold N configs of N entries per
    /// instance and network version. wg-quick text (admin and static downloads, few) is always kept.
    /// </summary>
    public const int MaxKeptBody = 32 * 1024;

    /// <summary>
    /// The peer's config as served; null when the network or the peer does not exist. When
    /// <paramref name="notModified"/> accepts the config's ETag, the body may be empty (nothing is rendered).
    /// </summary>
    public async ValueTask<RenderedConfig?> GetAsync(Guid networkId, Guid peerId, ConfigFormat format, Func<string, bool>? notModified = null)
    {
        if (_bypass) return await LoadAsync(networkId) is { } fresh ? fresh.Render(peerId, format) : null;

        var bucket = _networks.GetOrAdd(networkId, id => new Bucket(() => LoadAsync(id)));
        if (bucket.Rendered.TryGetValue((peerId, format), out var hit)
            && (hit.Body.Length > 0 || notModified?.Invoke(hit.ETag) == true))
            return hit;
        if (await RendererOfAsync(networkId, bucket) is not { } renderer) return null;
        if (renderer.Render(peerId, format) is not { } rendered) return null;
        bucket.Rendered[(peerId, format)] = format == ConfigFormat.WgQuick || rendered.Body.Length <= MaxKeptBody ? rendered : rendered with { Body = [] };
        return rendered;
    }

    /// <summary>The network's config source (current as of the last notice this instance applied); null when the network is gone.</summary>
    public async ValueTask<ConfigSource?> SourceAsync(Guid networkId)
    {
        if (_bypass) return (await LoadAsync(networkId))?.Source;
        return (await RendererOfAsync(networkId, _networks.GetOrAdd(networkId, id => new Bucket(() => LoadAsync(id)))))?.Source;
    }

    private async Task<ConfigRenderer?> RendererOfAsync(Guid networkId, Bucket bucket)
    {
        try
        {
            var source = await bucket.Renderer.Value;
            // Nothing to keep for a missing network; a failed load must not stick either.
            if (source is null) _networks.TryRemove(new KeyValuePair<Guid, Bucket>(networkId, bucket));
            return source;
        }
        catch
        {
            _networks.TryRemove(new KeyValuePair<Guid, Bucket>(networkId, bucket));
            throw;
        }
    }

    // Not tied to any request's cancellation: the load is shared by everyone waiting on the bucket.
    private async Task<ConfigRenderer?> LoadAsync(Guid networkId)
    {
        await using var session = services.GetRequiredService<IDocumentStore>().QuerySession();
        return await session.LoadAsync<ConfigSource>(networkId) is { } source ? new ConfigRenderer(source) : null;
    }

    public void InvalidateNetwork(Guid networkId) => _networks.TryRemove(networkId, out _);

    public void Clear() => _networks.Clear();

    /// <summary>Empties the cache; while <paramref name="on"/>, every read goes to the database (the change feed is down).</summary>
    public void Bypass(bool on)
    {
        _bypass = on;
        _networks.Clear();
    }
}
