using System.Collections.Concurrent;
using Wirety.Projections.Configs;

namespace Wirety.Server.Configs;

/// <summary>
/// In-memory copy of recently read per-peer configs, so an unchanged config answers 304 (and a changed
/// one 200) without a database round trip. Invalidated per network by <see cref="Changes.ChangeFeed"/>
/// for every commit that touched the network's stream, on whichever instance it was committed — one
/// place, so no write path can forget it.
/// </summary>
public sealed class ConfigCache
{
    // One bucket per network; invalidation swaps the bucket, so a reader that loaded a config before a
    // commit can only fill the orphaned bucket, never resurrect stale data in the live one.
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<Guid, PeerConfigDocument>> _networks = new();
    private volatile bool _bypass;

    public async ValueTask<PeerConfigDocument?> GetAsync(Guid networkId, Guid peerId, Func<Task<PeerConfigDocument?>> load)
    {
        if (_bypass) return await load() is { } fresh && fresh.NetworkId == networkId ? fresh : null;

        var bucket = _networks.GetOrAdd(networkId, _ => new());
        if (bucket.TryGetValue(peerId, out var hit)) return hit;

        var doc = await load();
        if (doc is null || doc.NetworkId != networkId) return null;
        bucket[peerId] = doc;
        return doc;
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
