using System.Collections.Concurrent;
using Wirety.Events.Peers;

namespace Wirety.Server.Agents;

/// <summary>
/// What turns a heartbeat's per-peer stats into a delta (<see cref="HeartbeatReceived.PeerStatsSince"/>): per
/// agent session, the stats as stored up to the last heartbeat this instance committed for it. A beat is stored as
/// the peers whose stats <see cref="Moved"/> since then (a new handshake era, a megabyte of traffic, a counter
/// reset, a peer that appeared), plus the peers no longer reported; it is stored in full when the instance knows
/// no earlier beat of the session (its first, or after a restart), on every
/// <see cref="HeartbeatIngestor.FullSnapshotEvery"/>-th beat (so a reader never walks a long chain, and every
/// value is exact again), and after the memory bound (<see cref="MaxEntries"/> stats over all sessions) made it forget.
/// <para>
/// Why a resolution and not "any change": WireGuard's persistent keepalives (every 25 s) and its rekeying (every
/// 2 minutes while packets flow) move every peer's counters and handshake between two beats, so an exact delta
/// of a jump's 4,096 peers would be nearly its full list every time. Between full beats a rebuilt list is within
/// <see cref="CounterResolution"/> bytes and <see cref="HandshakeResolution"/> of what the agent reported.
/// </para>
/// <para>
/// Only committed heartbeats become baselines, and a delta names its baseline by id, so deltas stay exact
/// when one session's beats land on two instances, race each other, or a commit fails.
/// </para>
/// </summary>
public sealed class PeerStatsBaselines(int fullSnapshotEvery, int maxEntries = PeerStatsBaselines.MaxEntries)
{
    public const int MaxEntries = 1_000_000;

    /// <summary>Traffic a peer's counters must move (either way) since their stored value before a delta carries them.</summary>
    public const long CounterResolution = 1 << 20;

    /// <summary>How far a peer's latest handshake must move since its stored value before a delta carries it.</summary>
    public static readonly TimeSpan HandshakeResolution = TimeSpan.FromMinutes(10);

    /// <summary>Whether a peer's stats moved enough since <paramref name="stored"/> to be stored again.</summary>
    public static bool Moved(HeartbeatPeerStat stored, HeartbeatPeerStat now) =>
        (stored.LatestHandshake is null) != (now.LatestHandshake is null)
        || (stored.LatestHandshake is { } was && now.LatestHandshake is { } @is && (@is - was).Duration() >= HandshakeResolution)
        || now.RxBytes < stored.RxBytes || now.TxBytes < stored.TxBytes // counters reset: the interface was re-created
        || now.RxBytes - stored.RxBytes >= CounterResolution || now.TxBytes - stored.TxBytes >= CounterResolution;

    private sealed record Baseline(Guid HeartbeatId, int BeatsSinceFull, Dictionary<string, HeartbeatPeerStat> Stats);

    private readonly ConcurrentDictionary<Guid, Baseline> _sessions = new();
    private long _entries;

    /// <param name="Stored">The heartbeat as it is to be stored.</param>
    /// <param name="BeatsSinceFull">Beats since the session's last full one.</param>
    /// <param name="Base">The stored stats the delta is relative to; null for a full beat.</param>
    public readonly record struct Compacted(HeartbeatReceived Stored, int BeatsSinceFull, IReadOnlyDictionary<string, HeartbeatPeerStat>? Base = null);

    /// <summary>The heartbeat as it is to be stored: a delta against the session's baseline, or in full.</summary>
    public Compacted Compact(HeartbeatReceived heartbeat)
    {
        var full = heartbeat with { PeerStatsSince = null, PeerStatsRemoved = null };
        if (!_sessions.TryGetValue(heartbeat.SessionId, out var baseline) || baseline.BeatsSinceFull + 1 >= fullSnapshotEvery)
            return new Compacted(full, 0);

        var changed = heartbeat.PeerStats.Where(s => !baseline.Stats.TryGetValue(s.PublicKey, out var before) || Moved(before, s)).ToList();
        var reported = heartbeat.PeerStats.Select(s => s.PublicKey).ToHashSet(StringComparer.Ordinal);
        var removed = baseline.Stats.Keys.Where(k => !reported.Contains(k)).Order(StringComparer.Ordinal).ToList();
        return new Compacted(
            heartbeat with { PeerStats = changed, PeerStatsSince = baseline.HeartbeatId, PeerStatsRemoved = removed.Count > 0 ? removed : null },
            baseline.BeatsSinceFull + 1, baseline.Stats);
    }

    /// <summary>The heartbeat was committed: the stats as stored up to it (what a reader rebuilds) become the session's baseline.</summary>
    public void Committed(HeartbeatReceived heartbeat, Compacted compacted)
    {
        var stored = compacted.Stored;
        var stats = compacted.Base is { } @base
            ? new Dictionary<string, HeartbeatPeerStat>(@base, StringComparer.Ordinal)
            : new Dictionary<string, HeartbeatPeerStat>(stored.PeerStats.Count, StringComparer.Ordinal);
        foreach (var key in stored.PeerStatsRemoved ?? []) stats.Remove(key);
        foreach (var stat in stored.PeerStats) stats[stat.PublicKey] = stat; // a key reported twice: the last one counts, as in HeartbeatPeerStats.Apply
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
