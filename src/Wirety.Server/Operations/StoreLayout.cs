using JasperFx.Events.Projections;
using Marten;
using Npgsql;
using Wirety.Projections;

namespace Wirety.Server.Operations;

/// <summary>
/// On a document type that is neither projected nor history: state that must not outlive a restore (UI sessions —
/// a backup would bring back sessions signed out since). Backups leave it out; a restore empties its table.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class NotBackedUpAttribute : Attribute;

/// <summary>A registered projection as the operations commands see it: its name, the document tables it owns, how to run it.</summary>
public sealed record ProjectionInfo(string Name, IReadOnlyList<Type> DocumentTypes, IReadOnlyList<string> Tables,
    IProjectionSource<IDocumentOperations, IQuerySession> Source);

/// <summary>
/// Which tables of the Wirety schema hold what, derived from the store's configuration (never from a
/// hand-kept list): the event tables, the documents each registered projection owns (its teardown
/// types), and the <em>state documents</em> — every other document type, written by commands rather
/// than projected (public-key claims, detection sightings), which a backup must carry because no
/// replay can recreate them.
/// </summary>
public sealed class StoreLayout
{
    public const string Streams = "mt_streams", Events = "mt_events";
    public string Schema { get; } = WiretyStore.Schema;
    public IReadOnlyList<ProjectionInfo> Projections { get; }
    public IReadOnlyList<Type> StateDocumentTypes { get; }
    public IReadOnlyList<string> StateDocumentTables { get; }
    /// <summary>Document types marked <see cref="NotBackedUpAttribute"/>, and their tables (emptied by a restore).</summary>
    public IReadOnlyList<Type> TransientDocumentTypes { get; }
    public IReadOnlyList<string> TransientDocumentTables { get; }

    public StoreLayout(IDocumentStore store)
    {
        var options = store.Options;
        Projections = ((StoreOptions)store.Options).Projections.All
            .Select(p => new ProjectionInfo(p.Name, p.Options.StorageTypes.Distinct().ToList(),
                p.Options.StorageTypes.Distinct().Select(t => TableOf(options, t)).ToList(), p))
            .ToList();
        var projected = Projections.SelectMany(p => p.DocumentTypes).ToHashSet();
        var unprojected = options.AllKnownDocumentTypes().Select(m => m.DocumentType)
            .Where(t => !projected.Contains(t)).OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        bool Transient(Type t) => t.IsDefined(typeof(NotBackedUpAttribute), inherit: false);
        StateDocumentTypes = unprojected.Where(t => !Transient(t)).ToList();
        StateDocumentTables = StateDocumentTypes.Select(t => TableOf(options, t)).ToList();
        TransientDocumentTypes = unprojected.Where(Transient).ToList();
        TransientDocumentTables = TransientDocumentTypes.Select(t => TableOf(options, t)).ToList();
    }

    public IEnumerable<string> ProjectedTables => Projections.SelectMany(p => p.Tables).Distinct();

    /// <summary>The tables a backup carries, in restore order (streams before the events that reference them).</summary>
    public IReadOnlyList<string> BackedUpTables => [Streams, Events, .. StateDocumentTables];

    public ProjectionInfo? FindProjection(string name) =>
        Projections.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    private static string TableOf(IReadOnlyStoreOptions options, Type documentType) =>
        options.FindOrResolveDocumentType(documentType).TableName.Name;

    public string Qualified(string table) => $"{Quote(Schema)}.{Quote(table)}";

    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";

    /// <summary>The columns of a Wirety table in the database, in table order; empty when the table does not exist.</summary>
    public async Task<IReadOnlyList<string>> ColumnsAsync(NpgsqlConnection conn, string table, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(
            "select column_name from information_schema.columns where table_schema = @s and table_name = @t order by ordinal_position", conn);
        cmd.Parameters.AddWithValue("s", Schema);
        cmd.Parameters.AddWithValue("t", table);
        var columns = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) columns.Add(reader.GetString(0));
        return columns;
    }

    /// <summary>Rows in the event tables and every document table of the store (0 when the schema does not exist yet).</summary>
    public async Task<long> CountStoredRowsAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        long total = 0;
        foreach (var table in BackedUpTables.Concat(ProjectedTables).Distinct())
        {
            if ((await ColumnsAsync(conn, table, ct)).Count == 0) continue;
            await using var cmd = new NpgsqlCommand($"select count(*) from {Qualified(table)}", conn);
            total += (long)(await cmd.ExecuteScalarAsync(ct))!;
        }
        return total;
    }
}
