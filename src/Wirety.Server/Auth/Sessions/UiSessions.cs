using System.Security.Cryptography;
using Marten;
using Microsoft.Extensions.Options;

namespace Wirety.Server.Auth.Sessions;

/// <summary>
/// Starts and ends UI sessions: a random 256-bit secret in the <see cref="UiSessionCookie.Name"/> cookie
/// (HttpOnly, SameSite=Strict, Path=/, Secure when the browser's request is HTTPS: <see cref="BrowserOrigin"/>), its SHA-256 as the stored
/// <see cref="UiSession"/>'s id. Sessions live in PostgreSQL, so every instance of a cluster sees them, and
/// ending one (sign-out, revocation) takes effect on every instance with the next request: sessions are not cached.
/// </summary>
public sealed class UiSessions(IDocumentStore store, TimeProvider clock, IOptions<SessionOptions> options)
{
    /// <summary>Stores a new session for <paramref name="subjectId"/> and sets its cookie on the response.</summary>
    public async Task StartAsync(HttpContext http, string kind /* NetworkScope.TokenKind|UserKind */, Guid subjectId, CancellationToken ct)
    {
        if (kind is not (NetworkScope.TokenKind or NetworkScope.UserKind))
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "A UI session is of kind token or user.");
        var now = clock.GetUtcNow();
        var secret = NewSecret();
        var session = new UiSession
        {
            Id = TokenSecrets.Hash(secret), Kind = kind, SubjectId = subjectId, CreatedAt = now, LastSeenAt = now,
            ExpiresAt = now + options.Value.Lifetime, IdleTimeout = options.Value.IdleTimeout, CsrfToken = NewSecret(),
        };
        await using (var db = store.LightweightSession())
        {
            db.Insert(session);
            await db.SaveChangesAsync(ct);
        }
        http.Response.Cookies.Append(UiSessionCookie.Name, secret, CookieOptions(http, session.ExpiresAt));
    }

    /// <summary>Deletes the session of the request's cookie (if any) and expires the cookie.</summary>
    public async Task EndAsync(HttpContext http, CancellationToken ct)
    {
        await DeleteAsync(http, ct);
        http.Response.Cookies.Delete(UiSessionCookie.Name, CookieOptions(http, null));
    }

    /// <summary>Deletes the session of the request's cookie, if any, on the server only.</summary>
    public async Task DeleteAsync(HttpContext http, CancellationToken ct)
    {
        if (!http.Request.Cookies.TryGetValue(UiSessionCookie.Name, out var secret) || string.IsNullOrEmpty(secret)) return;
        await using var db = store.LightweightSession();
        db.Delete<UiSession>(TokenSecrets.Hash(secret));
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Ends every session of API token <paramref name="tokenId"/> (it was revoked).</summary>
    public async Task EndAllOfAsync(Guid tokenId, CancellationToken ct)
    {
        await using var db = store.LightweightSession();
        db.DeleteWhere<UiSession>(s => s.SubjectId == tokenId && s.Kind == NetworkScope.TokenKind);
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Deletes the sessions past their absolute lifetime or idle timeout; how many.</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var db = store.LightweightSession();
        // Idle ones are found in memory: the idle timeout is per session (fixed at sign-in), the table is small.
        var lapsed = await db.Query<UiSession>().Where(s => s.ExpiresAt <= now).Select(s => s.Id).ToListAsync(ct);
        var idle = (await db.Query<UiSession>().Where(s => s.ExpiresAt > now).ToListAsync(ct)).Where(s => !s.IsUsableAt(now)).Select(s => s.Id);
        var ids = lapsed.Concat(idle).ToList();
        foreach (var id in ids) db.Delete<UiSession>(id);
        await db.SaveChangesAsync(ct);
        return ids.Count;
    }

    public static CookieOptions CookieOptions(HttpContext http, DateTimeOffset? expires) => new()
    {
        HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/", Secure = BrowserOrigin.IsHttps(http), Expires = expires, IsEssential = true,
    };

    /// <summary>32 random bytes, base64url (43 characters).</summary>
    public static string NewSecret() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
