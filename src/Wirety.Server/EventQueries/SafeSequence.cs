using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;
using Wirety.Projections;

namespace Wirety.Server.EventQueries;

/// <summary>
/// How far the global event sequence can be read without a later reader seeing an event appear *behind*
/// what it already read. PostgreSQL hands out sequence numbers when a transaction appends, not when it
/// commits: seq 11 can be visible while seq 10 is still in flight. A keyset reader that returned 11 and
/// then asks for "after 11" would never see 10. So reads stop just before the first hole in the sequence:
/// a hole is either an append still in flight (it will fill) or an aborted one (it never will). Whether a
/// hole is permanent cannot be read from PostgreSQL, so — like Marten's own high-water mark — a hole
/// counts as settled once it has stayed open for <see cref="Settle"/> since this instance first saw it.
/// Appends are short (milliseconds), so the wait only costs anything after an aborted append, and then once.
/// </summary>
public sealed class SafeSequence
{
    /// <summary>Hole start → when this instance first saw it (monotonic clock).</summary>
    private readonly ConcurrentDictionary<long, long> _holesSeen = new();
    /// <summary>
    /// Everything at or below this sequence has been seen contiguous or settled: scans start here instead of
    /// at the reader's position, so a deep or sparse read does not rescan millions of sequence numbers.
    /// </summary>
    private long _settledFloor;
    public TimeSpan Settle { get; }

    public SafeSequence(IConfiguration config)
    {
        Settle = TimeSpan.FromMilliseconds(config["WIRETY_EVENT_SETTLE_MS"] is { } ms && int.TryParse(ms, out var v) && v >= 0 ? v : 3000);
    }

    /// <summary>
    /// The highest sequence that is safe to return to a reader positioned at <paramref name="after"/>,
    /// looking no further than <paramref name="upTo"/> (null: the end of the stream). Scans the
    /// sequence column from the last event at or before <paramref name="after"/>, or from the settled floor
    /// when that is higher.
    /// </summary>
    public async Task<long> UpToAsync(NpgsqlConnection conn, long after, long? upTo, CancellationToken ct)
    {
        var floorBefore = Interlocked.Read(ref _settledFloor);
        if (upTo is { } limit && limit <= floorBefore) return Math.Max(after, limit); // all settled already

        await using var cmd = new NpgsqlCommand($"""
            with floor as (
              -- A store emptied and restarted (tests, a restore) has a lower maximum than the floor: forget it then.
              select case when @floor <= coalesce((select max(seq_id) from {WiretyStore.Schema}.mt_events), 0) then @floor else 0 end as f),
            start as (
              select greatest(floor.f, coalesce(
                (select max(seq_id) from {WiretyStore.Schema}.mt_events where seq_id <= greatest(@after, floor.f)),
                (select min(seq_id) from {WiretyStore.Schema}.mt_events where seq_id > greatest(@after, floor.f)))) as s
              from floor),
            run as (
              select seq_id, lead(seq_id) over (order by seq_id) as next
              from {WiretyStore.Schema}.mt_events, start
              where seq_id >= start.s and (@upto::bigint is null or seq_id <= @upto))
            select false, seq_id + 1 from run where next > seq_id + 1
            union all
            select true, coalesce(max(seq_id), @after) + 1 from run
            """, conn);
        cmd.Parameters.AddWithValue("after", after);
        cmd.Parameters.AddWithValue("floor", floorBefore);
        cmd.Parameters.AddWithValue("upto", NpgsqlTypes.NpgsqlDbType.Bigint, (object?)upTo ?? DBNull.Value);
        var holes = new List<long>();
        var end = after;
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
            {
                // true: one past the end of what was scanned; false: the first number of a hole.
                if (reader.GetBoolean(0)) end = reader.GetInt64(1) - 1;
                else holes.Add(reader.GetInt64(1));
            }

        var now = Stopwatch.GetTimestamp();
        var safe = end;
        foreach (var hole in holes.Order())
        {
            var seen = _holesSeen.GetOrAdd(hole, now);
            if (Stopwatch.GetElapsedTime(seen, now) < Settle) { safe = hole - 1; break; }
        }
        // Only a scan that started at the floor (the reader was at or below it) proves everything from there up to here.
        if (after <= floorBefore) RaiseFloor(floorBefore, safe);
        if (_holesSeen.Count > 10_000) _holesSeen.Clear(); // aborted appends are rare; bound the memory anyway
        return Math.Max(after, safe);
    }

    private void RaiseFloor(long expected, long to)
    {
        if (to > expected) Interlocked.CompareExchange(ref _settledFloor, to, expected);
    }

    /// <summary>
    /// Forget what was settled. For a store that is emptied and refilled while the server runs (tests); the
    /// query also drops a floor above the highest stored sequence by itself.
    /// </summary>
    public void Reset()
    {
        Interlocked.Exchange(ref _settledFloor, 0);
        _holesSeen.Clear();
    }
}
