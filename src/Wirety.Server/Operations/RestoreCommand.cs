using Marten;
using Npgsql;

namespace Wirety.Server.Operations;

/// <summary>
/// <c>restore --in FILE [--force]</c>. The whole file is checked first (format version, structure,
/// row counts, SHA-256) without touching the database. Then, in one transaction: with <c>--force</c>
/// every event, stream and document of the Wirety schema is deleted; streams, events (with their
/// original sequence numbers, ids, versions, timestamps and archive flags) and state documents are
/// copied in; the event sequence is moved past the highest restored sequence; and every projection is
/// rebuilt from the restored events. Any failure rolls all of it back. A target that holds Wirety data
/// is refused unless forced.
/// <para>
/// A restore under running servers would leave them serving cached configs and credentials of the old
/// store and appending on top of the new one, so it is refused while a Wirety server is connected to the
/// target database: a connection whose <c>application_name</c> is the server's (<see cref="ServerApplicationName"/>,
/// set by the server unless WIRETY_DB names its own) or its change feed's (<c>wirety-change-feed</c>, always).
/// <c>--ignore-connected-servers</c> skips the check, for an operator who knows better (then restart them).
/// With an HMAC key, an unsigned backup or one whose MAC does not match is refused before anything is touched.
/// </para>
/// </summary>
public static class RestoreCommand
{
    public sealed record Result(BackupManifest Manifest, IReadOnlyList<BackupTableCount> Restored, bool Wiped, ProjectionRebuild.Result Rebuild);

    /// <summary>The <c>application_name</c> the server's connections carry (see WiretySettings).</summary>
    public const string ServerApplicationName = "wirety-server";
    public const string ChangeFeedApplicationName = "wirety-change-feed";

    public static async Task<Result> RunAsync(IDocumentStore store, string connectionString, string inPath, bool force, CancellationToken ct,
        BackupKey? key = null, bool ignoreConnectedServers = false)
    {
        var layout = new StoreLayout(store);
        var path = Path.GetFullPath(inPath);
        var manifest = await BackupReader.ValidateAsync(path, ct, key);
        if (manifest.Schema != layout.Schema)
            throw new BackupRefusedException($"{path} is a backup of schema {manifest.Schema}; this server uses schema {layout.Schema}.");
        var known = layout.BackedUpTables.ToHashSet();
        if (manifest.Tables.FirstOrDefault(t => !known.Contains(t.Name)) is { } unknown)
            throw new BackupRefusedException($"{path} holds table {unknown.Name}, which this server does not know (a backup from a newer Wirety?).");
        foreach (var required in new[] { StoreLayout.Streams, StoreLayout.Events })
            if (manifest.Tables.All(t => t.Name != required)) throw new BackupRefusedException($"{path} has no {required} section.");

        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        if (!ignoreConnectedServers && await ConnectedServersAsync(conn, ct) is { Count: > 0 } servers)
            throw new OperationFailedException(
                $"a Wirety server is connected to database {conn.Database}: {string.Join("; ", servers)}. " +
                "Stop every server instance first, restore, then start them again (a running server would keep serving the old state " +
                "from its caches and append on top of the restored one). Nothing was restored.");
        var existing = await layout.CountStoredRowsAsync(conn, ct);
        if (existing > 0 && !force)
            throw new OperationFailedException(
                $"the target database already holds Wirety data ({existing} rows of events and documents in schema {layout.Schema}). " +
                "Restore into an empty database, or add --force to delete all of the schema's events, streams and documents first.");

        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();

        await using var tx = await conn.BeginTransactionAsync(ct);
        if (force)
        {
            var tables = layout.BackedUpTables.Concat(layout.ProjectedTables).Concat(layout.TransientDocumentTables).Distinct().Select(layout.Qualified);
            await using var wipe = new NpgsqlCommand($"truncate {string.Join(", ", tables)}", conn, tx);
            await wipe.ExecuteNonQueryAsync(ct);
        }

        var importer = new Importer(conn, layout);
        try
        {
            // Read (and verify) the file again as it is loaded: it could have changed since the check.
            await BackupReader.ReadAsync(path, importer, ct, key);
        }
        catch
        {
            importer.Cancel();
            throw;
        }

        await using (var seq = new NpgsqlCommand(
                         $"select setval('{layout.Schema}.mt_events_sequence', greatest(@max, 1), @max > 0)", conn, tx))
        {
            seq.Parameters.AddWithValue("max", manifest.HighestSequence);
            await seq.ExecuteNonQueryAsync(ct);
        }

        var rebuild = await ProjectionRebuild.RunAsync(store, tx, layout.Projections, ct);
        await tx.CommitAsync(ct);
        return new Result(manifest, importer.Restored, existing > 0, rebuild);
    }

    /// <summary>Other sessions on this database that belong to a Wirety server, described for the operator.</summary>
    public static async Task<IReadOnlyList<string>> ConnectedServersAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(
            """
            select application_name, coalesce(host(client_addr), 'local socket'), count(*)
            from pg_stat_activity
            where datname = current_database() and pid <> pg_backend_pid()
              and (application_name = @server or application_name like @serverPrefix or application_name = @feed)
            group by 1, 2 order by 1, 2
            """, conn);
        cmd.Parameters.AddWithValue("server", ServerApplicationName);
        cmd.Parameters.AddWithValue("serverPrefix", ServerApplicationName + " %");
        cmd.Parameters.AddWithValue("feed", ChangeFeedApplicationName);
        var found = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            found.Add($"{reader.GetInt64(2)} connection(s) of {reader.GetString(0)} from {reader.GetString(1)}");
        return found;
    }

    private sealed class Importer(NpgsqlConnection conn, StoreLayout layout) : BackupReader.IVisitor
    {
        private TextWriter? _copy;
        public List<BackupTableCount> Restored { get; } = [];

        public async Task BeginSectionAsync(BackupSection section, CancellationToken ct)
        {
            var columns = await layout.ColumnsAsync(conn, section.Name, ct);
            if (section.Columns.FirstOrDefault(c => !columns.Contains(c)) is { } missing)
                throw new BackupRefusedException(
                    $"the backup's table {section.Name} has a column {missing} that this database's table lacks (a backup from a newer Wirety?).");
            _copy = await conn.BeginTextImportAsync(
                $"copy {layout.Qualified(section.Name)} ({string.Join(", ", section.Columns.Select(StoreLayout.Quote))}) from stdin", ct);
        }

        public async ValueTask RowAsync(string row, CancellationToken ct)
        {
            await _copy!.WriteAsync(row);
            await _copy.WriteAsync('\n');
        }

        public async Task EndSectionAsync(BackupSection section, long rows, CancellationToken ct)
        {
            await _copy!.DisposeAsync();
            _copy = null;
            Restored.Add(new BackupTableCount(section.Name, rows));
        }

        public void Cancel()
        {
            if (_copy is NpgsqlCopyTextWriter writer)
                try { writer.Cancel(); } catch (Exception) { /* the transaction is rolled back anyway */ }
        }
    }
}
