using System.Collections.Concurrent;

namespace Wirety.Server.Incidents;

/// <summary>
/// A committed heartbeat that may matter for the peer's endpoint or for incident detection, handled
/// off the request path by <see cref="DetectIncidents"/>.
/// </summary>
public sealed record PeerSighted(
    Guid HeartbeatId, Guid NetworkId, Guid PeerId, Guid SessionId, string SourceAddress, string? Endpoint, DateTimeOffset At);

/// <summary>
/// Decides which heartbeats go on to detection: those whose session, source or endpoint differ from
/// the peer's previous heartbeat on this instance, plus one per <see cref="Refresh"/>. The refresh is
/// what lets two instances that each only ever see one of two copies of an identity still interleave
/// their sightings in the shared record (detection across instances therefore takes up to a minute;
/// on one instance it takes one heartbeat).
/// </summary>
public sealed class SightingFilter(TimeProvider clock)
{
    public static readonly TimeSpan Refresh = TimeSpan.FromSeconds(60);
    private readonly ConcurrentDictionary<Guid, (Guid Session, string Source, string? Endpoint, DateTimeOffset ReportedAt)> _last = new();

    public bool ShouldReport(PeerSighted s)
    {
        var now = clock.GetUtcNow();
        if (_last.TryGetValue(s.PeerId, out var last) && last.Session == s.SessionId && last.Source == s.SourceAddress
            && last.Endpoint == s.Endpoint && now - last.ReportedAt < Refresh)
            return false;
        _last[s.PeerId] = (s.SessionId, s.SourceAddress, s.Endpoint, now);
        return true;
    }

    public void Clear() => _last.Clear();
}
