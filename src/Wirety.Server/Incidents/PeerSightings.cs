using Wirety.Projections.Incidents;

namespace Wirety.Server.Incidents;

/// <summary>
/// A peer's recent sightings (the last day, oldest first), the input of incident detection. Kept by the
/// detection handler from heartbeats that differ from the previous one (plus a periodic refresh), so
/// it stays small however often the peer heartbeats. A document the handler writes, not a projection:
/// no replay recreates it, so backups carry it (<see cref="Operations.StoreLayout"/>).
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
