namespace Wirety.Server.Auth.Sessions;

/// <summary>
/// A signed-in browser: operational state (a document, not events). The id is the SHA-256 (hex) of the
/// cookie's secret, so the database never holds a usable cookie. Holds no API token value or hash: a token
/// session refers to its token by id and takes role, scope and revocation from the token on every request.
/// </summary>
[Operations.NotBackedUp] // a restore must not bring back sessions signed out since the backup
public sealed record UiSession
{
    /// <summary>SHA-256 (lower-case hex) of the cookie value.</summary>
    public required string Id { get; init; }

    /// <summary><see cref="NetworkScope.TokenKind"/> or <see cref="NetworkScope.UserKind"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>The API token's id (kind token) or the user's id (kind user).</summary>
    public Guid SubjectId { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Absolute end (<see cref="SessionOptions.Lifetime"/> after sign-in).</summary>
    public DateTimeOffset ExpiresAt { get; init; }

    /// <summary>Idle timeout fixed at sign-in (<see cref="SessionOptions.IdleTimeout"/>).</summary>
    public TimeSpan IdleTimeout { get; init; }

    /// <summary>Last use, written at most once per <see cref="SessionOptions.TouchInterval"/>.</summary>
    public DateTimeOffset LastSeenAt { get; init; }

    /// <summary>The value cookie-authenticated writes must send in <c>X-Wirety-CSRF</c> (256-bit, base64url).</summary>
    public required string CsrfToken { get; init; }

    public bool IsUsableAt(DateTimeOffset now) => now < ExpiresAt && now - LastSeenAt < IdleTimeout;
}
