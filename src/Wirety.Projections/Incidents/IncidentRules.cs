using Wirety.Events.Incidents;
using Wirety.Projections.Networks;

namespace Wirety.Projections.Incidents;

public sealed record Finding(IncidentType Type, string Summary, IReadOnlyList<Sighting> Evidence);

/// <summary>
/// The detection rules, as pure functions of a peer's sightings (oldest first) and the network's
/// thresholds. Moving once (roaming from Wi-Fi to LTE) is never an incident: every rule needs the peer
/// to be in two places at once or to keep changing place.
/// </summary>
public static class IncidentRules
{
    /// <summary>The first rule that fires, in order of how directly it shows a copied identity.</summary>
    public static Finding? Evaluate(IReadOnlyList<Sighting> sightings, NetworkSecurity security, DateTimeOffset now) =>
        !security.Enabled ? null
        : SessionConflict(sightings, security.SessionConflictWindow, now)
          ?? SharedConfig(sightings, security.SharedConfigFlips, security.SharedConfigWindow, now)
          ?? SuspiciousActivity(sightings, security.MaxEndpointChangesPerDay, now);

    /// <summary>
    /// Two agent sessions within the window, or one session heartbeating from two source addresses at
    /// once: the first address is seen again after the second appeared (A, B, A).
    /// </summary>
    public static Finding? SessionConflict(IReadOnlyList<Sighting> sightings, TimeSpan window, DateTimeOffset now)
    {
        var recent = sightings.Where(s => s.At >= now - window).ToList();
        var sessions = recent.GroupBy(s => s.SessionId).Select(g => g.Last()).ToList();
        if (sessions.Count >= 2)
            return new Finding(IncidentType.SessionConflict,
                $"{sessions.Count} agent sessions heartbeated for this peer within {Describe(window)}.", sessions);

        for (var k = recent.Count - 1; k >= 2; k--)
        for (var j = k - 1; j >= 1; j--)
        {
            if (recent[j].SourceAddress == recent[k].SourceAddress) continue;
            for (var i = j - 1; i >= 0; i--)
                if (recent[i].SourceAddress == recent[k].SourceAddress)
                    return new Finding(IncidentType.SessionConflict,
                        $"The same session heartbeated alternately from {recent[k].SourceAddress} and {recent[j].SourceAddress} within {Describe(window)}.",
                        [recent[i], recent[j], recent[k]]);
        }
        return null;
    }

    /// <summary>The endpoint's IP address changed at least <paramref name="flips"/> times within the window.</summary>
    public static Finding? SharedConfig(IReadOnlyList<Sighting> sightings, int flips, TimeSpan window, DateTimeOffset now)
    {
        var changes = Changes(sightings.Where(s => s.At >= now - window));
        return changes.Count >= flips
            ? new Finding(IncidentType.SharedConfig,
                $"The endpoint flipped between {changes.SelectMany(c => new[] { c.From.EndpointAddress, c.To.EndpointAddress }).Distinct().Count()} addresses {changes.Count} times within {Describe(window)}.",
                Evidence(changes))
            : null;
    }

    /// <summary>More than <paramref name="maxPerDay"/> endpoint changes in 24 hours. A port-only change is NAT rebinding, not a change.</summary>
    public static Finding? SuspiciousActivity(IReadOnlyList<Sighting> sightings, int maxPerDay, DateTimeOffset now)
    {
        var changes = Changes(sightings.Where(s => s.At >= now - TimeSpan.FromHours(24)));
        return changes.Count > maxPerDay
            ? new Finding(IncidentType.SuspiciousActivity,
                $"The endpoint changed {changes.Count} times in 24 hours (the limit is {maxPerDay}).", Evidence(changes))
            : null;
    }

    /// <summary>Consecutive sightings whose endpoint IP differs (unknown endpoints are skipped).</summary>
    private static List<(Sighting From, Sighting To)> Changes(IEnumerable<Sighting> sightings)
    {
        var changes = new List<(Sighting, Sighting)>();
        Sighting? previous = null;
        foreach (var s in sightings.Where(s => s.EndpointAddress is not null))
        {
            if (previous is not null && previous.EndpointAddress != s.EndpointAddress) changes.Add((previous, s));
            previous = s;
        }
        return changes;
    }

    private static IReadOnlyList<Sighting> Evidence(List<(Sighting From, Sighting To)> changes) =>
        changes.SelectMany(c => new[] { c.From, c.To }).DistinctBy(s => s.HeartbeatId).ToList();

    private static string Describe(TimeSpan window) =>
        window.TotalMinutes >= 1 && window.TotalMinutes % 1 == 0 ? $"{window.TotalMinutes:0} min" : $"{window.TotalSeconds:0} s";
}
