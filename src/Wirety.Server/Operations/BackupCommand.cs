using System.Data;
using System.Reflection;
using Marten;
using Npgsql;

namespace Wirety.Server.Operations;

/// <summary>
/// <c>backup --out FILE</c>: a consistent snapshot of the event store while servers keep running. One
/// REPEATABLE READ, READ ONLY transaction sees a single snapshot of streams, events (archived ones
/// included) and state documents; each table is streamed with COPY straight into the gzip file, so
/// memory stays flat whatever the size. Projected read models are not in the file: restore rebuilds them.
/// The file is written next to its target, flushed to disk (fsync) and renamed into place only when
/// complete, then the directory is fsync'ed (<see cref="DurableFiles"/>): after a crash there is either the
/// old file or the complete new one. With a key (<see cref="BackupKey"/>) the manifest carries an HMAC.
/// </summary>
public static class BackupCommand
{
    public sealed record Result(string Path, BackupManifest Manifest, long Bytes);

    public static async Task<Result> RunAsync(IDocumentStore store, string connectionString, string outPath, TimeProvider clock, CancellationToken ct,
        BackupKey? key = null)
    {
        var layout = new StoreLayout(store);
        var target = Path.GetFullPath(outPath);
        var directory = Path.GetDirectoryName(target)!;
        if (!Directory.Exists(directory)) throw new OperationFailedException($"cannot write {target}: directory {directory} does not exist.");
        var partial = Path.Combine(directory, $".{Path.GetFileName(target)}.{Environment.ProcessId}.partial");

        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        await using (var readOnly = new NpgsqlCommand("set transaction read only", conn, tx)) await readOnly.ExecuteNonQueryAsync(ct);

        if ((await layout.ColumnsAsync(conn, StoreLayout.Events, ct)).Count == 0)
            throw new OperationFailedException($"there is no Wirety event store (schema {layout.Schema}) in this database.");

        try
        {
            var counts = new List<BackupTableCount>();
            long highest;
            // Owner-only: the file holds the whole history (hashes of credentials, addresses, topology).
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1 << 16, Options = FileOptions.Asynchronous,
            };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            await using (var file = new FileStream(partial, options))
            {
                await using var writer = new BackupWriter(file, key);
                await writer.WriteHeaderAsync(ct);
                foreach (var table in layout.BackedUpTables)
                {
                    var columns = await layout.ColumnsAsync(conn, table, ct);
                    if (columns.Count == 0 && layout.StateDocumentTables.Contains(table)) continue; // never written, so nothing to keep
                    if (columns.Count == 0) throw new OperationFailedException($"table {layout.Schema}.{table} is missing: start the server once to create the schema.");
                    counts.Add(new BackupTableCount(table, await CopyTableAsync(conn, layout, table, columns, writer, ct)));
                }

                await using (var cmd = new NpgsqlCommand($"select coalesce(max(seq_id), 0) from {layout.Qualified(StoreLayout.Events)}", conn, tx))
                    highest = Convert.ToInt64(await cmd.ExecuteScalarAsync(ct));
                var postgres = conn.PostgreSqlVersion.ToString();
                await writer.FinishAsync(sha => new BackupManifest(BackupFormat.Version, clock.GetUtcNow(), WiretyVersion, MartenVersion,
                    postgres, layout.Schema, highest, counts, sha), ct);
                file.Flush(flushToDisk: true); // fsync: the data is on disk before the name points at it
            }

            await tx.CommitAsync(ct);
            File.Move(partial, target, overwrite: true);
            DurableFiles.FsyncDirectory(directory); // and the rename too, where the OS lets a directory be fsync'ed
            var manifest = await BackupReader.ValidateAsync(target, ct, key); // read back: what we promise is what is on disk
            return new Result(target, manifest, new FileInfo(target).Length);
        }
        finally
        {
            if (File.Exists(partial)) File.Delete(partial);
        }
    }

    private static async Task<long> CopyTableAsync(NpgsqlConnection conn, StoreLayout layout, string table, IReadOnlyList<string> columns,
        BackupWriter writer, CancellationToken ct)
    {
        await writer.BeginSectionAsync(new BackupSection(table, columns), ct);
        // Key order makes two backups of the same data identical apart from the manifest's time.
        var order = table == StoreLayout.Events ? "seq_id" : "id";
        var sql = $"copy (select {string.Join(", ", columns.Select(StoreLayout.Quote))} from {layout.Qualified(table)} order by {order}) to stdout";
        long rows = 0;
        using (var reader = await conn.BeginTextExportAsync(sql, ct))
        {
            while (await reader.ReadLineAsync(ct) is { } line)
            {
                await writer.WriteLineAsync(line, ct);
                rows++;
            }
        }
        await writer.EndSectionAsync(ct);
        return rows;
    }

    public static string WiretyVersion =>
        typeof(BackupCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static string MartenVersion =>
        typeof(DocumentStore).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0]
        ?? typeof(DocumentStore).Assembly.GetName().Version?.ToString() ?? "unknown";
}

/// <summary>An operations command could not do its work; the message is for the operator. Nothing was changed.</summary>
public sealed class OperationFailedException(string message, Exception? inner = null) : Exception(message, inner);
