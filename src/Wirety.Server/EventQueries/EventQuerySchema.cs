using Marten;
using Npgsql;
using Wirety.Projections;
using Wirety.Projections.History;

namespace Wirety.Server.EventQueries;

/// <summary>
/// Database objects the event queries need beyond Marten's own, applied at start after Marten's schema
/// (idempotent; serialised by an advisory lock when several instances start together; the indexes are built
/// concurrently, so on a large existing store the first start takes a while but appends are not blocked):
/// <list type="bullet">
/// <item><c>wirety.event_time(data)</c>: an event's own <c>at</c> as timestamptz (immutable, so it can be indexed).</item>
/// <item>Indexes on mt_events for the filters: network (<c>data->>'networkId'</c>), peer (<c>data->>'peerId'</c>),
/// type and event time, each followed by seq_id. Every append (heartbeats included) pays four more btree entries.</item>
/// <item>The <c>wirety_read</c> schema: views over the event tables for psql and BI tools (see ops/sql/README.md),
/// with hash fields removed and CLR type names, so SQL users never depend on Marten's internals.</item>
/// </list>
/// </summary>
public sealed class EventQuerySchema(IDocumentStore store, EventTypeNames names, ILogger<EventQuerySchema> log) : IHostedService
{
    public const string ReadSchema = "wirety_read";
    private const long LockId = 0x5749_5245_5459_0005; // "WIRETY" + 5

    public async Task StartAsync(CancellationToken ct)
    {
        await using var conn = (NpgsqlConnection)store.Storage.Database.CreateConnection();
        await conn.OpenAsync(ct);
        // A session lock, not a transaction: CREATE INDEX CONCURRENTLY cannot run inside one, and it keeps
        // appends (other instances' heartbeats) flowing while a large existing event table is indexed. Taken
        // with try-and-wait on the client: a session blocked *inside* pg_advisory_lock holds a snapshot that
        // the lock holder's CREATE INDEX CONCURRENTLY waits for — a deadlock when two instances start together.
        while (!await TryLockAsync(conn, ct)) await Task.Delay(TimeSpan.FromMilliseconds(200), ct);
        try
        {
            await ExecuteAsync(conn, Views(names), ct); // first: the time index needs event_time()
            foreach (var (name, definition) in EventQueryIndexes.All)
            {
                // A concurrent build that was interrupted leaves an invalid index that IF NOT EXISTS would keep.
                await ExecuteAsync(conn, $"""
                    do $$ begin
                      if exists (select from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
                                 where n.nspname = '{WiretyStore.Schema}' and c.relname = '{name}' and not i.indisvalid) then
                        drop index {WiretyStore.Schema}.{name};
                      end if;
                    end $$
                    """, ct);
                await ExecuteAsync(conn, $"create index concurrently if not exists {name} on {WiretyStore.Schema}.mt_events {definition}", ct);
            }
        }
        finally
        {
            await ExecuteAsync(conn, $"select pg_advisory_unlock({LockId})", CancellationToken.None);
        }
        log.LogInformation("Event query indexes and {Schema} views are in place", ReadSchema);
    }

    private static async Task<bool> TryLockAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"select pg_try_advisory_lock({LockId})", conn);
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
        await cmd.ExecuteNonQueryAsync(ct);
    }


    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;

    /// <summary>The event-time function (needed by an index, so it runs first) and the read-only views.</summary>
    public static string Views(EventTypeNames names)
    {
        var s = WiretyStore.Schema;
        var typeNames = string.Join(", ", EventCatalog.Types.Select(t => $"('{names.AliasOf(t)}', '{t.Name}')"));
        return $"""
            create or replace function {s}.event_time(data jsonb) returns timestamptz
              language sql immutable parallel safe
              -- Events always carry an ISO-8601 time with an offset, so the cast does not depend on TimeZone.
              as $$ select (data->>'at')::timestamptz $$;

            create schema if not exists {ReadSchema};
            create or replace view {ReadSchema}.event_types (alias, name) as values {typeNames};
            -- Columns may only be added at the end: create or replace cannot change or drop existing ones.
            create or replace view {ReadSchema}.events as
              select e.seq_id as sequence, e.stream_id, e.version,
                     coalesce(t.name, e.type) as type,
                     {s}.event_time(e.data) as at,
                     e.timestamp as recorded_at,
                     -- Text, exactly the indexed expressions, so filters on them use the indexes (ids are lower case).
                     e.data->>'networkId' as network_id,
                     e.data->>'peerId' as peer_id,
                     e.type as stored_type,
                     e.data->'actor'->>'name' as actor_name,
                     (e.data->'actor'->>'tokenId')::uuid as actor_token_id,
                     e.is_archived as archived,
                     e.data - 'tokenHash' - 'sessionTokenHash' as data
              from {s}.mt_events e left join {ReadSchema}.event_types t on t.alias = e.type;
            create or replace view {ReadSchema}.streams as
              select id as stream_id, type as aggregate, version, timestamp as updated_at, created as created_at, is_archived as archived
              from {s}.mt_streams;
            comment on schema {ReadSchema} is 'Read-only views over the Wirety event store (ops/sql/README.md). Stable for SQL users; Marten''s tables are not.';
            do $$ begin
              if exists (select from pg_roles where rolname = 'wirety_reader') then
                grant usage on schema {ReadSchema} to wirety_reader;
                grant select on all tables in schema {ReadSchema} to wirety_reader;
              end if;
            end $$;
            """;
    }
}
