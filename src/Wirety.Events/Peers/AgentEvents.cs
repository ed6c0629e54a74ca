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
/// <para>
/// Per-peer stats are stored as deltas. <see cref="PeerStatsSince"/> null (every event written before
/// deltas existed, the first beat of a session an instance sees, and every
/// <c>HeartbeatIngestor.FullSnapshotEvery</c>-th beat): <see cref="PeerStats"/> is the agent's full list.
/// Otherwise it names an earlier heartbeat of the same session, and <see cref="PeerStats"/> holds only the
/// peers whose handshake or counters differ from that heartbeat's (reconstructed) list, while
/// <see cref="PeerStatsRemoved"/> names the peers the agent no longer reports; an idle mesh stores no stats
/// at all. <see cref="HeartbeatPeerStats.Apply"/> reconstructs the full list.
/// </para>
/// </summary>
public sealed record HeartbeatReceived(
    Guid HeartbeatId, Guid NetworkId, Guid PeerId, Guid SessionId, string SourceAddress, string Hostname, int? ListenPort,
    IReadOnlyList<string> Endpoints, long UptimeSeconds, IReadOnlyList<HeartbeatPeerStat> PeerStats, DateTimeOffset At,
    Guid? PeerStatsSince = null, IReadOnlyList<string>? PeerStatsRemoved = null);

public sealed record HeartbeatPeerStat(string PublicKey, DateTimeOffset? LatestHandshake, long RxBytes, long TxBytes);

/// <summary>Reading <see cref="HeartbeatReceived.PeerStats"/> whether it is a full list or a delta.</summary>
public static class HeartbeatPeerStats
{
    /// <summary>
    /// The full list a heartbeat stands for, given the full list of the heartbeat its delta is based on
    /// (<see cref="HeartbeatReceived.PeerStatsSince"/>; ignored for a full list). Ordered by public key.
    /// </summary>
    public static IReadOnlyList<HeartbeatPeerStat> Apply(IReadOnlyList<HeartbeatPeerStat>? baseline, HeartbeatReceived heartbeat)
    {
        if (heartbeat.PeerStatsSince is null) return heartbeat.PeerStats.OrderBy(s => s.PublicKey, StringComparer.Ordinal).ToList();
        var full = new Dictionary<string, HeartbeatPeerStat>(StringComparer.Ordinal);
        foreach (var stat in baseline ?? []) full[stat.PublicKey] = stat;
        foreach (var removed in heartbeat.PeerStatsRemoved ?? []) full.Remove(removed);
        foreach (var stat in heartbeat.PeerStats) full[stat.PublicKey] = stat;
        return full.Values.OrderBy(s => s.PublicKey, StringComparer.Ordinal).ToList();
    }
}
