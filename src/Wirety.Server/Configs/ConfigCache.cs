using System.Collections.Concurrent;
using JasperFx.Events;
using Marten;
using Marten.Services;
using Wirety.Projections.Configs;

namespace Wirety.Server.Configs;

/// <summary>
/// In-memory copy of recently read per-peer configs, so an unchanged config answers 304 (and a changed
/// one 200) without a database round trip. Invalidated per network by <see cref="Invalidator"/> after
/// every commit that appended to the network's stream — one place, so no write path can forget it.
/// </summary>
public sealed class ConfigCache
{
    public sealed record Entry(Guid NetworkId, long Version, string ETag, string Text);

    // One bucket per network; invalidation swaps the bucket, so a reader that loaded a config before a
    // commit can only fill the orphaned bucket, never resurrect stale data in the live one.
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<Guid, Entry>> _networks = new();

    public async ValueTask<Entry?> GetAsync(Guid networkId, Guid peerId, Func<Task<PeerConfigDocument?>> load)
    {
        var bucket = _networks.GetOrAdd(networkId, _ => new());
        if (bucket.TryGetValue(peerId, out var hit)) return hit;

        var doc = await load();
        if (doc is null || doc.NetworkId != networkId) return null;
        var entry = new Entry(doc.NetworkId, doc.Version, doc.ETag, doc.Text);
        bucket[peerId] = entry;
        return entry;
    }

    public void InvalidateNetwork(Guid networkId) => _networks.TryRemove(networkId, out _);

    public void Clear() => _networks.Clear();

    public sealed class Invalidator(ConfigCache cache) : DocumentSessionListenerBase
    {
        public override Task AfterCommitAsync(IDocumentSession session, IChangeSet commit, CancellationToken token)
        {
            foreach (var streamId in commit.GetEvents().Select(e => e.StreamId).Distinct())
                cache.InvalidateNetwork(streamId);
            return Task.CompletedTask;
        }
    }
}
