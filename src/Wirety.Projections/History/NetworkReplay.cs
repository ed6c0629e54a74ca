using Wirety.Projections.Incidents;
using Wirety.Projections.Networks;

namespace Wirety.Projections.History;

/// <summary>A network as it was at one point of its history.</summary>
/// <param name="Sequence">The global sequence the state is as of: the last event folded in (0: none).</param>
/// <param name="At">The time of that event.</param>
public sealed record NetworkAt(long Sequence, DateTimeOffset? At, Network? Network, IReadOnlyList<Incident> Incidents);

/// <summary>
/// Replays a network's history up to a point with the same folds the live projections use
/// (<see cref="NetworkEvolution"/>, <see cref="IncidentEvolution"/>): there is no second evolution to drift.
/// Pure; the caller loads the events.
/// </summary>
public static class NetworkReplay
{
    /// <summary>Everything up to and including global sequence <paramref name="upTo"/>.</summary>
    /// <param name="networkEvents">The network stream, in version order.</param>
    /// <param name="incidentEvents">The events of the network's incident streams, in any order.</param>
    public static NetworkAt AsOf(IEnumerable<RecordedEvent> networkEvents, IEnumerable<RecordedEvent> incidentEvents, long upTo)
    {
        Network? network = null;
        RecordedEvent? last = null;
        foreach (var e in networkEvents.Where(e => e.Sequence <= upTo).OrderBy(e => e.Version))
        {
            network = NetworkEvolution.Evolve(network, e.Data);
            if (network is not null) network.Version = e.Version;
            if (last is null || e.Sequence > last.Sequence) last = e;
        }

        var incidents = new List<Incident>();
        foreach (var stream in incidentEvents.Where(e => e.Sequence <= upTo).GroupBy(e => e.StreamId))
        {
            Incident? incident = null;
            foreach (var e in stream.OrderBy(e => e.Version))
            {
                incident = IncidentEvolution.Evolve(incident, e.Data);
                if (last is null || e.Sequence > last.Sequence) last = e;
            }
            if (incident is not null) incidents.Add(incident);
        }
        return new NetworkAt(last?.Sequence ?? 0, last?.At, network, incidents.OrderBy(i => i.DetectedAt).ToList());
    }

    /// <summary>
    /// The point a time stands for: the last event (in sequence order) decided at or before
    /// <paramref name="time"/>; 0 when the network's history had not begun.
    /// </summary>
    public static long SequenceAt(IEnumerable<RecordedEvent> events, DateTimeOffset time) =>
        events.Where(e => e.At <= time).Select(e => e.Sequence).DefaultIfEmpty(0).Max();
}
