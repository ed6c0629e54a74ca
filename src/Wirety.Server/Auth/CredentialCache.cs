using System.Collections.Concurrent;
using Marten;

namespace Wirety.Server.Auth;

/// <summary>
/// Keeps recently presented credentials (API tokens, agent sessions) in memory by the hash of their
/// value, so authentication — and with it a 304 config answer — needs no database round trip.
/// Revocations are evicted on every instance as soon as it hears of the commit
/// (<see cref="Changes.ChangeFeed"/>); <see cref="Ttl"/> only bounds how long anything else lives.
/// Unknown hashes are not cached, so a new credential works immediately.
/// </summary>
public sealed class CredentialCache<T>(IDocumentStore store, TimeProvider clock, Func<IQuerySession, string, CancellationToken, Task<T?>> load)
    where T : class
{
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(15);
    private readonly ConcurrentDictionary<string, (T Credential, DateTimeOffset LoadedAt)> _byHash = new();
    private long _evictions;
    private volatile bool _bypass;

    public async ValueTask<T?> FindAsync(string hash, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (!_bypass && _byHash.TryGetValue(hash, out var hit) && now - hit.LoadedAt < Ttl) return hit.Credential;

        var evictionsBefore = Interlocked.Read(ref _evictions);
        await using var session = store.QuerySession();
        var credential = await load(session, hash, ct);
        if (credential is null || _bypass)
        {
            _byHash.TryRemove(hash, out _);
            return credential;
        }

        var entry = (credential, now);
        _byHash[hash] = entry;
        // An eviction that ran while this was loading may have been about what was just loaded: take it back.
        if (Interlocked.Read(ref _evictions) != evictionsBefore) _byHash.TryRemove(new KeyValuePair<string, (T, DateTimeOffset)>(hash, entry));
        return credential;
    }

    public void EvictWhere(Func<T, bool> predicate)
    {
        Interlocked.Increment(ref _evictions);
        foreach (var (hash, entry) in _byHash)
            if (predicate(entry.Credential)) _byHash.TryRemove(hash, out _);
    }

    public void Clear()
    {
        Interlocked.Increment(ref _evictions);
        _byHash.Clear();
    }

    /// <summary>Empties the cache; while <paramref name="on"/>, every lookup goes to the database (the change feed is down).</summary>
    public void Bypass(bool on)
    {
        _bypass = on;
        Clear();
    }
}
