namespace Wirety.Events.Peers;

/// <summary>
/// An enrollment attempt was refused (unknown, used or expired token). Never carries the token; the
/// peer is named when the token was recognised. Earlier releases gave each rejection its own stream; now the
/// rejections from one source address share a stream per period (see EnrollAgent.RejectionStream).
/// </summary>
public sealed record EnrollmentRejected(
    Guid RejectionId, Guid? NetworkId, Guid? PeerId, string Reason, string SourceAddress, string? Hostname, DateTimeOffset At);

/// <summary>
/// A heartbeat from an agent session, in the peer's own heartbeat stream (never the network stream,
/// so heartbeat volume never contends with admin writes).
/// </summary>
public sealed record HeartbeatReceived(
    Guid HeartbeatId, Guid NetworkId, Guid PeerId, Guid SessionId, string SourceAddress, string Hostname, int? ListenPort,
    IReadOnlyList<string> Endpoints, long UptimeSeconds, IReadOnlyList<HeartbeatPeerStat> PeerStats, DateTimeOffset At);

public sealed record HeartbeatPeerStat(string PublicKey, DateTimeOffset? LatestHandshake, long RxBytes, long TxBytes);
