using System.Collections.Concurrent;
using Marten;

namespace Wirety.Server.Auth;

/// <summary>
/// Keeps recently presented credentials (API tokens, agent sessions) in memory by the hash of their
/// value, so authentication — and with it a 304 config answer — needs no database round trip.
/// Revocation on this instance evicts at once; other instances see it within <see cref="Ttl"/>.
/// Unknown hashes are not cached, so a new credential works immediately.
/// </summary>
public sealed class CredentialCache<T>(IDocumentStore store, TimeProvider clock, Func<IQuerySession, string, CancellationToken, Task<T?>> load)
    where T : class
{
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(15);
    private readonly ConcurrentDictionary<string, (T Credential, DateTimeOffset LoadedAt)> _byHash = new();

    public async ValueTask<T?> FindAsync(string hash, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (_byHash.TryGetValue(hash, out var hit) && now - hit.LoadedAt < Ttl) return hit.Credential;

        await using var session = store.QuerySession();
        var credential = await load(session, hash, ct);
        if (credential is null) _byHash.TryRemove(hash, out _);
        else _byHash[hash] = (credential, now);
        return credential;
    }

    public void Evict(string hash) => _byHash.TryRemove(hash, out _);

    public void EvictWhere(Func<T, bool> predicate)
    {
        foreach (var (hash, entry) in _byHash)
            if (predicate(entry.Credential)) _byHash.TryRemove(hash, out _);
    }

    public void Clear() => _byHash.Clear();
}
