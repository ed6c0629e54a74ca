using Marten;
using Npgsql;
using Wirety.Projections;
using Wirety.Projections.History;

namespace Wirety.Server.EventQueries;

/// <summary>
/// Database objects the event queries need beyond Marten's own, applied at start after Marten's schema
/// (idempotent; serialised by an advisory lock when several instances start together):
/// <list type="bullet">
/// <item><c>wirety.event_time(data)</c>: an event's own <c>at</c> as timestamptz (immutable, so it can be indexed).</item>
/// <item>Indexes on mt_events for the filters, each ending in seq_id so a filtered page is an index range in keyset order:
/// network (<c>data->>'networkId'</c>), peer (<c>data->>'peerId'</c>), type, and time. They cost every append
/// (heartbeats included) four more index entries.</item>
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
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var cmd = new NpgsqlCommand($"select pg_advisory_xact_lock({LockId}); {Sql(names)}", conn, tx))
            await cmd.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        log.LogInformation("Event query indexes and {Schema} views are in place", ReadSchema);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;

    public static string Sql(EventTypeNames names)
    {
        var s = WiretyStore.Schema;
        var typeNames = string.Join(", ", EventCatalog.Types.Select(t => $"('{names.AliasOf(t)}', '{t.Name}')"));
        return $"""
            create or replace function {s}.event_time(data jsonb) returns timestamptz
              language sql immutable parallel safe
              -- Events always carry an ISO-8601 time with an offset, so the cast does not depend on TimeZone.
              as $$ select (data->>'at')::timestamptz $$;
            create index if not exists ix_events_network_seq on {s}.mt_events ((data->>'networkId'), seq_id);
            create index if not exists ix_events_peer_seq on {s}.mt_events ((data->>'peerId'), seq_id);
            create index if not exists ix_events_type_seq on {s}.mt_events (type, seq_id);
            create index if not exists ix_events_time_seq on {s}.mt_events ({s}.event_time(data), seq_id);

            create schema if not exists {ReadSchema};
            create or replace view {ReadSchema}.event_types (alias, name) as values {typeNames};
            create or replace view {ReadSchema}.events as
              select e.seq_id as sequence, e.stream_id, e.version,
                     coalesce(t.name, e.type) as type,
                     {s}.event_time(e.data) as at,
                     e.timestamp as recorded_at,
                     (e.data->>'networkId')::uuid as network_id,
                     (e.data->>'peerId')::uuid as peer_id,
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
