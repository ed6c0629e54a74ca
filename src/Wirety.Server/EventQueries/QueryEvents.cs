using System.Text;
using System.Text.Json;
using Marten;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Npgsql;
using NpgsqlTypes;
using Wirety.Events.Tokens;
using Wirety.Projections;
using Wirety.Server.Auth;
using Wirety.Server.Limits;
using Wirety.Server.Problems;
using Wirety.Server.ReadBounds;
using Wolverine.Http;

namespace Wirety.Server.EventQueries;

/// <summary>
/// The last line of an NDJSON export the server had to stop after it began (today: the statement timeout);
/// <c>eventsSent</c> lines came before it. A complete export has no such line.
/// </summary>
public sealed record ExportError(ExportErrorDetail Error);

public sealed record ExportErrorDetail(int Status, string Title, string Detail, int EventsSent);

/// <summary>A page of the global event stream; <c>next</c> is the <c>after</c> of the following page, null at the (current) end.</summary>
public sealed record EventPage(IReadOnlyList<EventItem> Items, long? Next);

/// <summary>
/// <c>GET /api/v1/events</c>: the global event stream, filtered, in sequence order, keyset-paginated by
/// <c>after</c>. With <c>Accept: application/x-ndjson</c> the whole matching range is streamed from a
/// data reader straight to the response (one object per line), so an export's memory does not grow with it.
/// Bounded: at most <see cref="LimitsOptions.ExportsPerToken"/> exports per API token at once (429 beyond), and
/// every command under <see cref="LimitsOptions.EventQueryTimeout"/> (503 before the stream begins; after it,
/// a final <see cref="ExportError"/> line).
/// </summary>
public static class QueryEvents
{
    public const string NdJson = "application/x-ndjson";
    private const int FlushEvery = 500;

    [RequiresRole(ApiTokenRole.Analyst), Scoped(ScopeRule.FilteredByHandler)]
    [WolverineGet("/api/v1/events")]
    public static async Task<IResult> Get(HttpContext http, IDocumentStore store, EventTypeNames names, SafeSequence safe,
        ReadSlots slots, IOptions<LimitsOptions> limits, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        if (!EventFilter.TryParse(http.Request.Query, errors, out var filter)) return errors.ToProblem().ToResult();
        filter = filter with { Scope = NetworkScope.NetworksOf(http.User) };

        var export = WantsNdJson(http.Request);
        using var slot = export ? slots.TryTake(HeavyRead.Export, http.User) : null;
        if (export && slot is null) return slots.Refusal(http, HeavyRead.Export);

        var timeout = limits.Value.EventQueryTimeout;
        await using var conn = (NpgsqlConnection)store.Storage.Database.CreateConnection();
        await conn.OpenAsync(ct);
        try
        {
            await using var tx = await StatementTimeout.BeginAsync(conn, timeout, ct);
            if (export)
            {
                var upTo = await safe.UpToAsync(conn, filter.After, null, ct);
                var narrowed = await NarrowByTimeAsync(conn, filter, ct);
                if (narrowed is null) http.Response.ContentType = NdJson + "; charset=utf-8";
                else await StreamAsync(http, conn, narrowed, upTo, names, timeout, ct);
                return Results.Empty;
            }
            return Results.Ok(await PageAsync(conn, filter, safe, names, ct));
        }
        catch (Exception e) when (StatementTimeout.IsTimeout(e, ct) && !http.Response.HasStarted)
        {
            // Nothing sent yet (an export's headers go out with its first flush): a plain problem.
            http.Response.Clear();
            return StatementTimeout.Problem(http, timeout);
        }
    }

    /// <summary>
    /// The sequence range a time filter covers, read from the (time, seq_id) index alone. Without it the
    /// planner tends to walk the sequence from <c>after</c> and test every event's time until the range
    /// begins (seconds on millions of heartbeats); with it the walk starts where the range does. Exact:
    /// the true smallest and largest sequence in the range, whether or not clocks were monotonic.
    /// </summary>
    private static async Task<EventFilter?> NarrowByTimeAsync(NpgsqlConnection conn, EventFilter filter, CancellationToken ct)
    {
        if (filter.From is null && filter.To is null) return filter;
        var s = WiretyStore.Schema;
        await using var cmd = new NpgsqlCommand(
            $"select min(seq_id), max(seq_id) from {s}.mt_events where seq_id > @after"
            + (filter.From is null ? "" : $" and {s}.event_time(data) >= @from")
            + (filter.To is null ? "" : $" and {s}.event_time(data) <= @to"), conn);
        cmd.Parameters.AddWithValue("after", filter.After);
        if (filter.From is { } from) cmd.Parameters.AddWithValue("from", from);
        if (filter.To is { } to) cmd.Parameters.AddWithValue("to", to);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        if (reader.IsDBNull(0)) return null; // nothing in the time range
        return filter with { After = Math.Max(filter.After, reader.GetInt64(0) - 1), SequenceCeiling = reader.GetInt64(1) };
    }

    public static bool WantsNdJson(HttpRequest request) =>
        MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accepted)
        && accepted.Any(a => a.MediaType.Equals(NdJson, StringComparison.OrdinalIgnoreCase));

    private static async Task<EventPage> PageAsync(NpgsqlConnection conn, EventFilter requested, SafeSequence safe, EventTypeNames names, CancellationToken ct)
    {
        if (await NarrowByTimeAsync(conn, requested, ct) is not { } filter) return new EventPage([], null);
        var rows = new List<EventItem>();
        await using (var cmd = Select(conn, filter, names, upTo: null, limit: filter.Limit + 1))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) rows.Add(Read(reader, names));
        if (rows.Count == 0) return new EventPage([], null);

        var page = rows.Take(filter.Limit).ToList();
        var upTo = await safe.UpToAsync(conn, requested.After, page[^1].Sequence, ct);
        var visible = page.TakeWhile(e => e.Sequence <= upTo).ToList();
        // Cut short at an append still in flight: there is more, and the next page starts where this one ends.
        if (visible.Count < page.Count) return new EventPage(visible, visible.Count > 0 ? visible[^1].Sequence : requested.After);
        return new EventPage(visible, rows.Count > filter.Limit ? visible[^1].Sequence : null);
    }

    private static async Task StreamAsync(HttpContext http, NpgsqlConnection conn, EventFilter filter, long upTo, EventTypeNames names, TimeSpan timeout, CancellationToken ct)
    {
        http.Response.ContentType = NdJson + "; charset=utf-8";
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers["X-Wirety-Up-To-Sequence"] = upTo.ToString();
        var body = http.Response.BodyWriter.AsStream();
        await using var cmd = Select(conn, filter, names, upTo, limit: null);
        await using var reader = await cmd.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, ct);
        var newline = "\n"u8.ToArray();
        var count = 0;
        try
        {
            while (await reader.ReadAsync(ct))
            {
                await JsonSerializer.SerializeAsync(body, Read(reader, names), EventItem.Json, ct);
                await body.WriteAsync(newline, ct);
                if (++count % FlushEvery == 0) await body.FlushAsync(ct);
            }
        }
        catch (Exception e) when (StatementTimeout.IsTimeout(e, ct) && http.Response.HasStarted)
        {
            // The status line is gone: end the stream with one line that is not an event, so a reader cannot
            // take a cut-short export for a complete one (events carry "sequence"; this carries "error").
            await JsonSerializer.SerializeAsync(body, new ExportError(new ExportErrorDetail(
                StatusCodes.Status503ServiceUnavailable, StatementTimeout.TimeoutTitle, StatementTimeout.TimeoutDetail(timeout), count)), EventItem.Json, ct);
            await body.WriteAsync(newline, ct);
        }
        await body.FlushAsync(ct);
    }

    private static EventItem Read(NpgsqlDataReader reader, EventTypeNames names)
    {
        // Column order matches Select; SequentialAccess needs them read left to right.
        var seq = reader.GetInt64(0);
        var streamId = reader.GetGuid(1);
        var alias = reader.GetString(2);
        var dotnetType = reader.IsDBNull(3) ? null : reader.GetString(3);
        var storedAt = reader.GetFieldValue<DateTimeOffset>(4);
        var json = reader.GetString(5);
        return EventItem.FromRow(seq, streamId, names.TypeOf(alias), names.NameOf(alias, dotnetType), storedAt, json);
    }

    private static NpgsqlCommand Select(NpgsqlConnection conn, EventFilter filter, EventTypeNames names, long? upTo, int? limit)
    {
        var s = WiretyStore.Schema;
        var sql = new StringBuilder($"select seq_id, stream_id, type, mt_dotnet_type, timestamp, data::text from {s}.mt_events where seq_id > @after");
        var cmd = new NpgsqlCommand { Connection = conn };
        cmd.Parameters.AddWithValue("after", filter.After);
        if (upTo is { } u) { sql.Append(" and seq_id <= @upto"); cmd.Parameters.AddWithValue("upto", u); }
        if (filter.SequenceCeiling is { } c) { sql.Append(" and seq_id <= @ceiling"); cmd.Parameters.AddWithValue("ceiling", c); }
        if (!filter.IncludeArchived) sql.Append(" and not is_archived");
        if (filter.NetworkId is { } n) { sql.Append(" and data->>'networkId' = @network"); cmd.Parameters.AddWithValue("network", n.ToString()); }
        if (filter.Scope is { } scope)
        {
            sql.Append(" and data->>'networkId' = any(@scope)");
            cmd.Parameters.AddWithValue("scope", NpgsqlDbType.Array | NpgsqlDbType.Text, scope.Select(id => id.ToString()).ToArray());
        }
        if (filter.PeerId is { } p) { sql.Append(" and data->>'peerId' = @peer"); cmd.Parameters.AddWithValue("peer", p.ToString()); }
        if (filter.Types.Count > 0)
        {
            sql.Append(" and type = any(@types)");
            cmd.Parameters.AddWithValue("types", NpgsqlDbType.Array | NpgsqlDbType.Varchar, filter.Types.Select(names.AliasOf).ToArray());
        }
        if (filter.From is { } from) { sql.Append($" and {s}.event_time(data) >= @from"); cmd.Parameters.AddWithValue("from", from); }
        if (filter.To is { } to) { sql.Append($" and {s}.event_time(data) <= @to"); cmd.Parameters.AddWithValue("to", to); }
        sql.Append(" order by seq_id");
        if (limit is { } l) { sql.Append(" limit @limit"); cmd.Parameters.AddWithValue("limit", l); }
        cmd.CommandText = sql.ToString();
        return cmd;
    }
}
