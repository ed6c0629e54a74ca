namespace Wirety.Agent.Identity;

/// <summary>
/// Who this agent is, as written by <c>enroll</c> to <c>identity.json</c> (mode 0600). The
/// enrollment token is not part of it: it is single-use and never stored.
/// </summary>
/// <param name="Kind">The peer's kind in the enrollment answer (<c>jump</c>, <c>dynamic</c>), pinned: a later
/// config saying <c>kind: jump</c> does not make this host forward or NAT (see <c>LocalPolicy</c>). Null in
/// identities written before it was kept.</param>
/// <param name="SigningKey">The server's Ed25519 agent-signing public key from the enrollment answer (unpadded
/// base64url), pinned: delta envelopes must carry a valid signature by it. Null in identities enrolled with a server
/// that had none; such an agent keeps the old protocol (config-changed pushes, full fetches).</param>
public sealed record AgentIdentity(
    Uri Server,
    Guid PeerId,
    Guid NetworkId,
    KeyPair Keys,
    Secret SessionToken,
    string? Hostname,
    DateTimeOffset EnrolledAt,
    string? Kind = null,
    string? SigningKey = null);
