namespace Wirety.Agent.Identity;

/// <summary>
/// Who this agent is, as written by <c>enroll</c> to <c>identity.json</c> (mode 0600). The
/// enrollment token is not part of it: it is single-use and never stored.
/// </summary>
public sealed record AgentIdentity(
    Uri Server,
    Guid PeerId,
    Guid NetworkId,
    KeyPair Keys,
    Secret SessionToken,
    string? Hostname,
    DateTimeOffset EnrolledAt);
