namespace Wirety.Events.Incidents;

public enum IncidentType
{
    /// <summary>One peer heartbeating from two agent sessions, or from two places at once.</summary>
    SessionConflict,
    /// <summary>The peer's endpoint flips between distinct IP addresses: one config used in two places.</summary>
    SharedConfig,
    /// <summary>Too many endpoint changes in a day.</summary>
    SuspiciousActivity,
}

/// <summary>One heartbeat that contributed to an incident.</summary>
public sealed record IncidentEvidence(Guid HeartbeatId, DateTimeOffset At, Guid SessionId, string SourceAddress, string? Endpoint);

// One stream per incident (stream id = IncidentId). Detection appends IncidentDetected here and
// PeerBlocked on the network stream in the same transaction; resolving appends IncidentResolved
// (and PeerUnblocked when asked).

public sealed record IncidentDetected(
    Guid IncidentId, Guid NetworkId, Guid PeerId, IncidentType Type, string Summary,
    IReadOnlyList<IncidentEvidence> Evidence, DateTimeOffset At);

public sealed record IncidentResolved(
    Guid IncidentId, Guid NetworkId, Guid PeerId, string Note, bool Unblocked, Actor Actor, DateTimeOffset At);
