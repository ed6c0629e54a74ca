namespace Wirety.Projections.Incidents;

/// <summary>Where and by which session a peer was seen, taken from one of its heartbeats.</summary>
/// <param name="EndpointAddress">The IP part of the endpoint others would dial (null when unknown).</param>
public sealed record Sighting(
    Guid HeartbeatId, DateTimeOffset At, Guid SessionId, string SourceAddress, string? Endpoint, string? EndpointAddress);

/// <summary>
/// A peer's recent sightings (the last day, oldest first), the input of incident detection. Kept by the
/// detection handler from heartbeats that differ from the previous one (plus a periodic refresh), so
/// it stays small however often the peer heartbeats.
/// </summary>
public sealed record PeerSightings(Guid Id, Guid NetworkId, IReadOnlyList<Sighting> Entries)
{
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);
    public const int MaxEntries = 500;

    public PeerSightings Add(Sighting sighting)
    {
        // Relative to the newest sighting: instances may report slightly out of order.
        var newest = Entries.Count == 0 || sighting.At > Entries[^1].At ? sighting.At : Entries[^1].At;
        var since = newest - Retention;
        var kept = Entries.Append(sighting).Where(e => e.At >= since).OrderBy(e => e.At).ToList();
        return this with { Entries = kept.Count > MaxEntries ? kept[^MaxEntries..] : kept };
    }
}
