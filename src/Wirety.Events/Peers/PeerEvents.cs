namespace Wirety.Events.Peers;

// Peer admin events, appended to the network's stream (see NetworkEvents.cs).

/// <summary>
/// A peer was declared. <paramref name="PublicKey"/> is set for static peers (server-generated pair,
/// private half never stored) and null for jump/dynamic peers until their agent enrolls.
/// </summary>
public sealed record PeerAdded(
    Guid NetworkId, Guid PeerId, string Name, PeerKind Kind, string Address, string? PublicKey,
    string? Endpoint, int? ListenPort, bool Isolated, bool FullEncapsulation,
    IReadOnlyList<string> AdditionalAllowedIps, Actor Actor, DateTimeOffset At);

/// <summary>The admin-editable settings of a peer, as they are after the change.</summary>
public sealed record PeerUpdated(
    Guid NetworkId, Guid PeerId, string Name, string? Endpoint, int? ListenPort, bool Isolated,
    bool FullEncapsulation, IReadOnlyList<string> AdditionalAllowedIps, Actor Actor, DateTimeOffset At);

/// <summary>The peer is gone: its address is released and its enrollment token and sessions are void.</summary>
public sealed record PeerRemoved(Guid NetworkId, Guid PeerId, Actor Actor, DateTimeOffset At);

/// <summary>A one-time enrollment token was handed out; only its SHA-256 hash is recorded.</summary>
public sealed record EnrollmentTokenIssued(
    Guid NetworkId, Guid PeerId, string TokenHash, DateTimeOffset ExpiresAt, Actor Actor, DateTimeOffset At);

/// <summary>Containment: the peer drops out of every config and its own config lists no peers.</summary>
public sealed record PeerBlocked(Guid NetworkId, Guid PeerId, string Reason, Actor Actor, DateTimeOffset At);

public sealed record PeerUnblocked(Guid NetworkId, Guid PeerId, string? Reason, Actor Actor, DateTimeOffset At);

/// <summary>
/// An agent enrolled with the peer's one-time token and sent its own public key. The session
/// credential it received is recorded only as a SHA-256 hash.
/// </summary>
public sealed record PeerEnrolled(
    Guid NetworkId, Guid PeerId, string PublicKey, string Hostname, string? AgentVersion,
    Guid SessionId, string SessionTokenHash, string SourceAddress, Actor Actor, DateTimeOffset At);

/// <summary>The endpoint other peers can reach this peer at, as observed from its heartbeats (null: unknown).</summary>
public sealed record EndpointChanged(
    Guid NetworkId, Guid PeerId, string? Endpoint, string? PreviousEndpoint, Guid SessionId, DateTimeOffset At);

/// <summary>
/// The peer's agent replaced its WireGuard key pair (<c>wirety-agent rotate-key</c>, or its network's rotation
/// interval), proving possession with its current session. Every config listing the peer swaps
/// <paramref name="PreviousPublicKey"/> for <paramref name="PublicKey"/>; only public halves are recorded.
/// </summary>
public sealed record PeerKeyRotated(
    Guid NetworkId, Guid PeerId, string PreviousPublicKey, string PublicKey, Guid SessionId, Actor Actor, DateTimeOffset At);
