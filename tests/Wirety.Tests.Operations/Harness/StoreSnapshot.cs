using Npgsql;

namespace Wirety.Tests.Operations.Harness;

/// <summary>
/// Every row of the event store and of every document table in the Wirety schema, as text. Events and
/// streams are compared whole (every column); documents by id and JSON body — their bookkeeping columns
/// (last-modified time, the random optimistic-concurrency version) record when a row was written, not
/// what the read model says.
/// </summary>
public sealed record StoreSnapshot(IReadOnlyDictionary<string, IReadOnlyList<string>> Tables)
{
    public static async Task<StoreSnapshot> TakeAsync(string connectionString)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        var tables = new List<string>();
        await using (var cmd = new NpgsqlCommand(
                         """
                         select table_name from information_schema.tables
                         where table_schema = 'wirety' and table_type = 'BASE TABLE'
                           and (table_name like 'mt_doc_%' or table_name in ('mt_events', 'mt_streams'))
                         order by table_name
                         """, conn))
        await using (var reader = await cmd.ExecuteReaderAsync())
            while (await reader.ReadAsync()) tables.Add(reader.GetString(0));

        var result = new SortedDictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            var sql = table switch
            {
                "mt_events" => "select t::text from wirety.mt_events t order by seq_id",
                "mt_streams" => "select t::text from wirety.mt_streams t order by id",
                _ => $"select id::text || ' ' || data::text from wirety.\"{table}\" order by id",
            };
            var rows = new List<string>();
            await using var cmd = new NpgsqlCommand(sql, conn);
            await using var reader = await cmd.ExecuteReaderAsync();
            while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
            result[table] = rows;
        }
        return new StoreSnapshot(result);
    }

    public IReadOnlyList<string> Rows(string table) => Tables.TryGetValue(table, out var rows) ? rows : [];

    /// <summary>Human-readable differences (first few per table); empty when equal.</summary>
    public IReadOnlyList<string> Differences(StoreSnapshot other)
    {
        var diffs = new List<string>();
        foreach (var table in Tables.Keys.Union(other.Tables.Keys).Order(StringComparer.Ordinal))
        {
            var mine = Rows(table);
            var theirs = other.Rows(table);
            var missing = theirs.Except(mine).Take(3).ToList();
            var extra = mine.Except(theirs).Take(3).ToList();
            if (mine.Count == theirs.Count && missing.Count == 0 && extra.Count == 0) continue;
            diffs.Add($"{table}: {mine.Count} rows vs {theirs.Count} expected");
            diffs.AddRange(missing.Select(r => $"  missing {r}"));
            diffs.AddRange(extra.Select(r => $"  unexpected {r}"));
        }
        return diffs;
    }

    /// <summary>The number of rows in document tables (read models and state documents).</summary>
    public int DocumentCount => Tables.Where(t => t.Key.StartsWith("mt_doc_", StringComparison.Ordinal)).Sum(t => t.Value.Count);

    public static void AssertEqual(StoreSnapshot expected, StoreSnapshot actual)
    {
        var diffs = actual.Differences(expected);
        Assert.True(diffs.Count == 0, "The stores differ:\n" + string.Join("\n", diffs));
    }
}
