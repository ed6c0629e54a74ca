using System.Collections.Concurrent;
using Marten;
using Wirety.Projections.Tokens;

namespace Wirety.Server.Auth;

/// <summary>
/// Keeps recently used tokens in memory so authentication (and a 304 config answer) needs no database
/// round trip. Revocation on this instance evicts at once; other instances see it within <see cref="Ttl"/>.
/// </summary>
public sealed class ApiTokenCache(IDocumentStore store, TimeProvider clock)
{
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(15);
    private readonly ConcurrentDictionary<string, (ApiToken Token, DateTimeOffset LoadedAt)> _byHash = new();

    public async ValueTask<ApiToken?> FindAsync(string tokenHash, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (_byHash.TryGetValue(tokenHash, out var hit) && now - hit.LoadedAt < Ttl) return hit.Token;

        await using var session = store.QuerySession();
        var token = await session.Query<ApiToken>().FirstOrDefaultAsync(t => t.TokenHash == tokenHash, ct);
        if (token is null)
        {
            _byHash.TryRemove(tokenHash, out _);
            return null;
        }
        _byHash[tokenHash] = (token, now);
        return token;
    }

    public void Evict(string tokenHash) => _byHash.TryRemove(tokenHash, out _);

    public void Clear() => _byHash.Clear();
}
