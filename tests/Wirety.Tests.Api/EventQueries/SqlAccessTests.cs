using Npgsql;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.EventQueries;

public sealed class SqlAccessTests(WiretyApp app) : ApiTest(app)
{
    private static string RepositoryFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, relative))) return Path.Combine(dir.FullName, relative);
        throw new FileNotFoundException(relative);
    }

    private async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task the_documented_reader_role_can_read_the_event_views_and_nothing_else()
    {
        var net = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        await CreatePeerAsync(net, new { name = "laptop", kind = "dynamic" }); // its EnrollmentTokenIssued has a tokenHash

        await ExecuteAsync(App.ConnectionString, await File.ReadAllTextAsync(RepositoryFile("ops/sql/read-only-role.sql")));
        await ExecuteAsync(App.ConnectionString, """
            do $$ begin
              if not exists (select from pg_roles where rolname = 'wirety_test_bi') then
                create role wirety_test_bi login in role wirety_reader;
              end if;
            end $$;
            """);
        var reader = new NpgsqlConnectionStringBuilder(App.ConnectionString) { Username = "wirety_test_bi", Pooling = false }.ConnectionString;

        await using var conn = new NpgsqlConnection(reader);
        await conn.OpenAsync();
        var rows = new List<(string Type, Guid? Network, string Data)>();
        await using (var cmd = new NpgsqlCommand("select type, network_id, data::text from wirety_read.events order by sequence", conn))
        await using (var r = await cmd.ExecuteReaderAsync())
            while (await r.ReadAsync()) rows.Add((r.GetString(0), r.IsDBNull(1) ? null : Guid.Parse(r.GetString(1)), r.GetString(2)));
        Assert.Equal(["ApiTokenIssued", "NetworkCreated", "PeerAdded", "EnrollmentTokenIssued"], rows.Select(r => r.Type));
        Assert.Equal(net, rows[1].Network);
        Assert.DoesNotContain(rows, r => r.Data.Contains("Hash", StringComparison.OrdinalIgnoreCase));
        await using (var cmd = new NpgsqlCommand("select count(*) from wirety_read.events where at <= now() + interval '1 day' and archived = false", conn))
            Assert.Equal(4L, await cmd.ExecuteScalarAsync());
        await using (var cmd = new NpgsqlCommand("select count(*) from wirety_read.streams", conn))
            Assert.Equal(2L, await cmd.ExecuteScalarAsync()); // the token and the network (peers live on it)

        foreach (var forbidden in new[]
                 {
                     "select count(*) from wirety.mt_events",
                     "select count(*) from wirety.mt_doc_apitoken",
                     "delete from wirety_read.streams",
                     "update wirety_read.streams set version = 0",
                 })
        {
            await using var cmd = new NpgsqlCommand(forbidden, conn);
            var error = await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteScalarAsync());
            Assert.True(error.SqlState is PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.ReadOnlySqlTransaction, forbidden + ": " + error.Message);
        }
    }

    [Fact]
    public async Task the_filter_indexes_exist_are_valid_and_survive_a_marten_schema_migration()
    {
        // Marten drops indexes on its event table that it does not know of, unless told to ignore them.
        await App.Store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        await using var conn = new NpgsqlConnection(App.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            select c.relname from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'wirety' and c.relname like 'ix_events_%' and i.indisvalid order by 1
            """, conn);
        var names = new List<string>();
        await using (var r = await cmd.ExecuteReaderAsync())
            while (await r.ReadAsync()) names.Add(r.GetString(0));
        Assert.Equal(["ix_events_network_seq", "ix_events_peer_seq", "ix_events_time_seq", "ix_events_type_seq"], names);
    }
}
