using System.Diagnostics;
using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events;
using Marten.Events.Archiving;
using Npgsql;

namespace Wirety.Server.Operations;

/// <summary>
/// Rebuilds projected read models from the events, inside the caller's transaction (so a failure
/// leaves the old read models in place, and readers see old or new, never half).
/// <para>
/// Why not Marten's daemon rebuild: it replays in fixed-size pages, so several commits fall into one
/// projection call. Wirety's config projection stamps each config with the stream version of the
/// commit that last changed it (that version is in the agent JSON and its ETag), so a rebuild must hand
/// the projections the events grouped exactly as they were committed to reproduce the same bytes.
/// Marten writes one server timestamp per transaction (<c>QuickWithServerTimestamps</c>), so a
/// commit is a run of events with equal timestamps in sequence order. The projections are taken
/// from the store's registrations (each one's inline form), so whatever is registered is rebuilt;
/// what each one owns — and so what is cleared first — is its declared teardown document types.
/// </para>
/// </summary>
public static class ProjectionRebuild
{
    public const int PageSize = 5_000;

    public sealed record Result(IReadOnlyList<string> Projections, long Events, long Commits, TimeSpan Elapsed)
    {
        public double EventsPerSecond => Elapsed.TotalSeconds > 0 ? Events / Elapsed.TotalSeconds : 0;
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

        var inline = projections.Select(p => p.Source.BuildForInline()).ToList();
        await using var session = store.LightweightSession(Marten.Services.SessionOptions.ForTransaction(tx));

        long after = 0, events = 0, commits = 0;
        var commit = new List<IEvent>();
        while (true)
        {
            var page = await session.Events.QueryAllRawEvents()
                .Where(e => e.MaybeArchived() && e.Sequence > after)
                .OrderBy(e => e.Sequence)
                .Take(PageSize)
                .ToListAsync(ct);
            foreach (var e in page)
            {
                if (commit.Count > 0 && e.Timestamp != commit[0].Timestamp)
                {
                    await ApplyAsync(session, inline, commit, ct);
                    commits++;
                    commit = [];
                }
                commit.Add(e);
            }
            events += page.Count;
            if (page.Count < PageSize) break;
            after = page[^1].Sequence;
        }
        if (commit.Count > 0)
        {
            await ApplyAsync(session, inline, commit, ct);
            commits++;
        }

        return new Result(projections.Select(p => p.Name).ToList(), events, commits, clock.Elapsed);
    }

    private static async Task ApplyAsync(IDocumentSession session, List<IInlineProjection<IDocumentOperations>> projections,
        List<IEvent> commit, CancellationToken ct)
    {
        // As Marten hands a commit to inline projections: one action per stream, Start when it opens the stream.
        var streams = commit.GroupBy(e => e.StreamId).Select(g => StreamAction.For(g.Key, g.ToList())).ToList();
        foreach (var projection in projections) await projection.ApplyAsync(session, streams, ct);
        // Each commit is flushed before the next is applied: projections read what earlier commits wrote.
        if (session.PendingChanges.Operations().Any()) await session.SaveChangesAsync(ct);
    }

    private static async Task ExecAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
