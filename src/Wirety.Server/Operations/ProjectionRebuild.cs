using System.Diagnostics;
using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events;
using Npgsql;

namespace Wirety.Server.Operations;

/// <summary>
/// Rebuilds projected read models from the events, inside the caller's transaction (so a failure
/// leaves the old read models in place, and readers see old or new, never half).
/// <para>
/// Why not Marten's daemon rebuild: it replays in fixed-size pages, so several commits reach a
/// projection in one call. Wirety's config projection stamps each config with the stream version of
/// the commit that last changed it (that version is in the agent JSON and its ETag), so a rebuild must
/// hand the projections each stream's events grouped exactly as they were committed to reproduce the
/// same bytes. Marten stamps all events of one stream in one commit with one timestamp (taken when the
/// commit is prepared), so a commit's share of a stream is the run of that stream's events with equal
/// timestamps. The projections are the store's registrations (each one's inline form), so whatever is
/// registered is rebuilt; what each one owns — and so what is cleared first — is its declared
/// teardown document types.
/// </para>
/// </summary>
public static class ProjectionRebuild
{
    public const int PageSize = 10_000;

    /// <summary>Events read, the commit groups they formed, and how long the rebuild took.</summary>
    public sealed record Result(IReadOnlyList<string> Projections, long Events, long Commits, TimeSpan Elapsed)
    {
        public double EventsPerSecond => Elapsed.TotalSeconds > 0 ? Events / Elapsed.TotalSeconds : 0;
    }

    private sealed record Target(IInlineProjection<IDocumentOperations> Projection, IReadOnlyList<Type>? EventTypes)
    {
        private readonly Dictionary<Type, bool> _wanted = new();

        /// <summary>Projections that declare their event types are skipped for commits holding none of them.</summary>
        public bool Wants(List<IEvent> commit)
        {
            if (EventTypes is null) return true;
            foreach (var e in commit)
            {
                if (!_wanted.TryGetValue(e.EventType, out var wanted))
                    _wanted[e.EventType] = wanted = EventTypes.Any(t => t.IsAssignableFrom(e.EventType));
                if (wanted) return true;
            }
            return false;
        }
    }

    public static async Task<Result> RunAsync(IDocumentStore store, NpgsqlTransaction tx, IReadOnlyList<ProjectionInfo> projections,
        CancellationToken ct)
    {
        var conn = tx.Connection!;
        var layout = new StoreLayout(store);
        var clock = Stopwatch.StartNew();

        // Appends wait until we commit; reads (and backups) carry on. Without this a commit landing
        // mid-rebuild could be projected onto documents we are about to replace.
        await ExecAsync(conn, tx, $"lock table {layout.Qualified(StoreLayout.Events)} in exclusive mode", ct);
        foreach (var table in projections.SelectMany(p => p.Tables).Distinct())
            await ExecAsync(conn, tx, $"delete from {layout.Qualified(table)}", ct);

        var targets = projections.Select(p => new Target(p.Source.BuildForInline(),
            p.Source is EventFilterable { IncludedEventTypes.Count: > 0 } f ? f.IncludedEventTypes.ToList() : null)).ToList();
        var reader = new EventReader(store, conn, tx, layout);
        await using var session = store.LightweightSession(Marten.Services.SessionOptions.ForTransaction(tx));

        long events = 0, commits = 0;
        var open = new Queue<(Guid Stream, DateTimeOffset At)>();
        var runs = new Dictionary<(Guid Stream, DateTimeOffset At), List<IEvent>>();
        // Reading (the connection) and applying (also the connection) alternate, but each page is
        // deserialized on the thread pool while the previous one is being applied.
        var rows = await reader.ReadRawAsync(0, PageSize, ct);
        var page = reader.DeserializeAsync(rows);
        while (true)
        {
            var current = await page;
            var full = rows.Count == PageSize;
            if (full)
            {
                rows = await reader.ReadRawAsync(current[^1].Sequence, PageSize, ct);
                page = reader.DeserializeAsync(rows);
            }

            events += current.Length;
            foreach (var e in current)
            {
                // Runs of one stream with one timestamp are that stream's part of one commit. A commit
                // may interleave with others in sequence order (concurrent appends), so a few runs stay
                // open; the oldest is applied once it can no longer grow.
                var key = (e.StreamId, e.Timestamp);
                if (runs.TryGetValue(key, out var run)) { run.Add(e); continue; }
                if (open.Count == MaxOpenRuns)
                {
                    var oldest = open.Dequeue();
                    await ApplyAsync(session, targets, runs[oldest], ct);
                    runs.Remove(oldest);
                    commits++;
                }
                open.Enqueue(key);
                runs[key] = [e];
            }
            if (!full) break;
        }
        while (open.TryDequeue(out var oldest))
        {
            await ApplyAsync(session, targets, runs[oldest], ct);
            commits++;
        }

        return new Result(projections.Select(p => p.Name).ToList(), events, commits, clock.Elapsed);
    }

    /// <summary>How many commit runs may interleave in sequence order (appends on concurrent connections).</summary>
    private const int MaxOpenRuns = 64;

    private static async Task ApplyAsync(IDocumentSession session, List<Target> targets, List<IEvent> run, CancellationToken ct)
    {
        // As Marten hands a commit to inline projections: one action, Start when it opens the stream.
        StreamAction[]? streams = null;
        foreach (var target in targets)
        {
            if (!target.Wants(run)) continue;
            streams ??= [StreamAction.For(run[0].StreamId, run)];
            await target.Projection.ApplyAsync(session, streams, ct);
        }
        // Flushed before the next run is applied: projections read what earlier commits wrote.
        if (streams is not null && session.PendingChanges.Operations().Any()) await session.SaveChangesAsync(ct);
    }

    private static async Task ExecAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Reads events (archived ones too) in sequence order straight from the events table and turns
    /// them into Marten's event objects with the store's own serializer and event mappings.
    /// </summary>
    private sealed class EventReader(IDocumentStore store, NpgsqlConnection conn, NpgsqlTransaction tx, StoreLayout layout)
    {
        private readonly EventGraph _events = (EventGraph)((StoreOptions)store.Options).Events;
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, EventMapping?> _mappings = new();
        private readonly Marten.ISerializer _serializer = ((StoreOptions)store.Options).Serializer();

        public sealed record Row(long Sequence, Guid Id, Guid StreamId, long Version, string Data, string Type, DateTimeOffset Timestamp,
            string TenantId, bool IsArchived, string? DotNetType);

        public async Task<List<Row>> ReadRawAsync(long after, int limit, CancellationToken ct)
        {
            await using var cmd = new NpgsqlCommand(
                $"""
                 select seq_id, id, stream_id, version, data::text, type, timestamp, tenant_id, is_archived, mt_dotnet_type
                 from {layout.Qualified(StoreLayout.Events)} where seq_id > @after order by seq_id limit @limit
                 """, conn, tx);
            cmd.Parameters.AddWithValue("after", after);
            cmd.Parameters.AddWithValue("limit", limit);
            var rows = new List<Row>(limit);
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                rows.Add(new Row(reader.GetInt64(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetInt64(3), reader.GetString(4),
                    reader.GetString(5), reader.GetFieldValue<DateTimeOffset>(6), reader.GetString(7), reader.GetBoolean(8),
                    reader.IsDBNull(9) ? null : reader.GetString(9)));
            return rows;
        }

        public Task<IEvent[]> DeserializeAsync(List<Row> rows) => Task.Run(() =>
        {
            try { return Deserialize(rows); }
            catch (AggregateException e) when (e.InnerExceptions.Count > 0) { throw e.InnerExceptions[0]; }
        });

        private IEvent[] Deserialize(List<Row> rows)
        {
            var events = new IEvent[rows.Count];
            Parallel.For(0, rows.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
            {
                var row = rows[i];
                // The CLR type recorded with the event, as Marten itself resolves types it has not seen appended.
                var mapping = _mappings.GetOrAdd(row.DotNetType ?? row.Type,
                    name => Type.GetType(name) is { } type ? _events.EventMappingFor(type) : null)
                    ?? throw new OperationFailedException($"event {row.Sequence} has type '{row.Type}' ({row.DotNetType}), which this server does not know; nothing was changed.");
                using var json = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(row.Data));
                var e = mapping.Wrap(_serializer.FromJson(mapping.DocumentType, json));
                e.Sequence = row.Sequence;
                e.Id = row.Id;
                e.StreamId = row.StreamId;
                e.Version = row.Version;
                e.Timestamp = row.Timestamp;
                e.TenantId = row.TenantId;
                e.IsArchived = row.IsArchived;
                events[i] = e;
            });
            return events;
        }
    }
}
