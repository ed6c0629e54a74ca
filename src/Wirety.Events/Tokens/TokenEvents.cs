namespace Wirety.Events.Tokens;

// API token lifecycle; one stream per token (stream id = TokenId).
// Only the SHA-256 hash of a token value is ever recorded, never the value.

/// <summary>What an API token may do. Stored by member name (<c>"Admin"</c>, ...) in <see cref="ApiTokenIssued"/>.</summary>
public enum ApiTokenRole
{
    /// <summary>Everything.</summary>
    Admin,
    /// <summary>Read-only: networks, peers, incidents, the event stream and history; no writes, no configs, no tokens.</summary>
    Analyst,
    /// <summary>Read-only like an analyst, without the event stream and the timeline.</summary>
    Viewer,
}

/// <summary><paramref name="NetworkIds"/>: the networks the role is limited to; null (and in events before it existed) for every network.</summary>
public sealed record ApiTokenIssued(
    Guid TokenId, string Name, string TokenHash, DateTimeOffset? ExpiresAt, bool Bootstrap,
    Actor Actor, DateTimeOffset At, ApiTokenRole Role, IReadOnlyList<Guid>? NetworkIds = null);

public sealed record ApiTokenRevoked(Guid TokenId, Actor Actor, DateTimeOffset At);
