using Npgsql;
using Wirety.Testing;

namespace Wirety.Tests.Harness;

public sealed class PostgresClusterTests
{
    [Fact]
    public async Task Created_database_answers_queries()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var cs = await cluster.CreateDatabaseAsync("harness_query");

        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("select version(), current_database()", conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Contains("PostgreSQL", reader.GetString(0));
        Assert.Equal("harness_query", reader.GetString(1));
    }

    [Fact]
    public async Task Databases_are_isolated()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var a = await cluster.CreateDatabaseAsync("harness_iso_a");
        var b = await cluster.CreateDatabaseAsync("harness_iso_b");

        await using (var conn = new NpgsqlConnection(a))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("create table marker (v int); insert into marker values (42)", conn);
            await cmd.ExecuteNonQueryAsync();
        }

        await using (var conn = new NpgsqlConnection(b))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("select to_regclass('public.marker') is null", conn);
            Assert.True((bool)(await cmd.ExecuteScalarAsync())!);
        }

        // Re-creating a database starts it empty again, even with pooled connections open.
        await using (var held = new NpgsqlConnection(a))
        {
            await held.OpenAsync();
            var again = await cluster.CreateDatabaseAsync("harness_iso_a");
            await using var conn = new NpgsqlConnection(again);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("select to_regclass('public.marker') is null", conn);
            Assert.True((bool)(await cmd.ExecuteScalarAsync())!);
        }
    }
}
