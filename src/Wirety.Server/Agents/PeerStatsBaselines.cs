using System.Collections.Concurrent;
using Wirety.Events.Peers;

namespace Wirety.Server.Agents;

/// <summary>
/// What turns a heartbeat's per-peer stats into a delta (<see cref="HeartbeatReceived.PeerStatsSince"/>): per
/// agent session, the full stats of the last heartbeat this instance committed for it. A beat is stored as
/// the peers that changed since that heartbeat, plus the peers no longer reported; it is stored in full
/// when the instance knows no earlier beat of the session (its first, or after a restart), on every
/// <see cref="HeartbeatIngestor.FullSnapshotEvery"/>-th beat (so a reader never walks a long chain), and
/// after the memory bound (<see cref="MaxEntries"/> stats over all sessions) made it forget.
/// <para>
/// Only committed heartbeats become baselines, and a delta names its baseline by id, so deltas stay exact
/// when one session's beats land on two instances, race each other, or a commit fails.
/// </para>
/// </summary>
public sealed class PeerStatsBaselines(int fullSnapshotEvery, int maxEntries = PeerStatsBaselines.MaxEntries)
{
    public const int MaxEntries = 1_000_000;

    private sealed record Baseline(Guid HeartbeatId, int BeatsSinceFull, Dictionary<string, HeartbeatPeerStat> Stats);

    private readonly ConcurrentDictionary<Guid, Baseline> _sessions = new();
    private long _entries;

    public readonly record struct Compacted(HeartbeatReceived Stored, int BeatsSinceFull);

    /// <summary>The heartbeat as it is to be stored: a delta against the session's baseline, or in full.</summary>
    public Compacted Compact(HeartbeatReceived heartbeat)
    {
        var full = heartbeat with { PeerStatsSince = null, PeerStatsRemoved = null };
        if (!_sessions.TryGetValue(heartbeat.SessionId, out var baseline) || baseline.BeatsSinceFull + 1 >= fullSnapshotEvery)
            return new Compacted(full, 0);

        var changed = heartbeat.PeerStats.Where(s => !baseline.Stats.TryGetValue(s.PublicKey, out var before) || before != s).ToList();
        var reported = heartbeat.PeerStats.Select(s => s.PublicKey).ToHashSet(StringComparer.Ordinal);
        var removed = baseline.Stats.Keys.Where(k => !reported.Contains(k)).Order(StringComparer.Ordinal).ToList();
        return new Compacted(
            heartbeat with { PeerStats = changed, PeerStatsSince = baseline.HeartbeatId, PeerStatsRemoved = removed.Count > 0 ? removed : null },
            baseline.BeatsSinceFull + 1);
    }

    /// <summary>The heartbeat was committed: its full stats become the session's baseline.</summary>
    public void Committed(HeartbeatReceived heartbeat, Compacted compacted)
    {
        var stats = new Dictionary<string, HeartbeatPeerStat>(heartbeat.PeerStats.Count, StringComparer.Ordinal);
        foreach (var stat in heartbeat.PeerStats) stats[stat.PublicKey] = stat; // a key reported twice: the last one counts, as in HeartbeatPeerStats.Apply
        var next = new Baseline(heartbeat.HeartbeatId, compacted.BeatsSinceFull, stats);
        var previous = 0;
        _sessions.AddOrUpdate(heartbeat.SessionId, next, (_, old) => { previous = old.Stats.Count; return next; });
        if (Interlocked.Add(ref _entries, stats.Count - previous) > maxEntries) Forget();
    }

    /// <summary>Forgets every baseline (memory bound, or a test's stand-in for a restart): each session's next beat is stored in full.</summary>
    public void Forget()
    {
        _sessions.Clear();
        Interlocked.Exchange(ref _entries, 0);
    }
}
