namespace Wirety.Events.Tokens;

// API token lifecycle; one stream per token (stream id = TokenId).
// Only the SHA-256 hash of a token value is ever recorded, never the value.

public sealed record ApiTokenIssued(
    Guid TokenId, string Name, string TokenHash, DateTimeOffset? ExpiresAt, bool Bootstrap,
    Actor Actor, DateTimeOffset At);

public sealed record ApiTokenRevoked(Guid TokenId, Actor Actor, DateTimeOffset At);
