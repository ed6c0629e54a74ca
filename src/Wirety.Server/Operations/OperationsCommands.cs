using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Npgsql;

namespace Wirety.Server.Operations;

/// <summary>
/// The operator commands, their options and what each one does. Failures are exceptions
/// (<see cref="OperationFailedException"/>, <see cref="BackupRefusedException"/>, <see cref="UsageError"/>)
/// that <see cref="OperationsCommandLine.RunAsync"/> turns into a message and an exit code.
/// </summary>
internal sealed class OperationsCommands
{
    private readonly IConfiguration _config;
    private readonly TextWriter _stdout;
    private readonly TimeProvider _clock;

    public RootCommand Root { get; } = new(
        """
        Wirety server. With no command it runs the server; with one, it runs that operator command
        against the server's database and exits (0 done, 1 refused or failed: nothing was changed, 2 bad usage).
        Configuration as for the server: WIRETY_DB (an Npgsql connection string) in the environment.
        For developers: `wirety-server codegen write|preview` (Wolverine's generated code; see `make codegen`).
        """) { HelpName = "wirety-server" };

    private readonly Option<string> _out = new("--out") { Description = "the backup file to write (required)", HelpName = "FILE" };
    private readonly Option<string> _in = new("--in") { Description = "the backup file to restore (required)", HelpName = "FILE" };
    private readonly Option<bool> _force = new("--force")
    {
        Description = "first delete all Wirety events, streams and documents", Arity = ArgumentArity.Zero,
    };
    private readonly Option<string> _backupHmacKey = new("--hmac-key-file")
    {
        Description = $"sign the backup with HMAC-SHA256 under the key in FILE (default: {BackupKey.Variable}, else unsigned)", HelpName = "FILE",
    };
    private readonly Option<string> _restoreHmacKey = new("--hmac-key-file")
    {
        Description = $"refuse the backup unless it is signed with the key in FILE (default: {BackupKey.Variable}, else no check)", HelpName = "FILE",
    };
    private readonly Option<bool> _ignoreConnectedServers = new("--ignore-connected-servers")
    {
        Description = "restore even though a Wirety server is connected to the database (restart every server afterwards)", Arity = ArgumentArity.Zero,
    };
    private readonly Option<DateTimeOffset?> _archivedBefore = new("--archived-before")
    {
        Description = "purge archived heartbeats received before this time (ISO 8601, e.g. 2026-01-01 or 2026-01-01T00:00:00Z; UTC unless an offset is given)",
        HelpName = "TIME",
        CustomParser = ParseTime,
    };
    private readonly Option<bool> _yes = new("--yes")
    {
        Description = "really delete (without it, purge only says how many events it would delete)", Arity = ArgumentArity.Zero,
    };
    private readonly Argument<string?> _projection = new("NAME")
    {
        Description = "the projection to rebuild (default: all)", Arity = ArgumentArity.ZeroOrOne,
    };
    private readonly Option<int?> _olderThanDays = new("--older-than-days")
    {
        Description = $"archive heartbeat events older than N days (default: {HeartbeatRetentionOptions.Variable}, else {HeartbeatArchiver.DefaultRetentionDays})",
        HelpName = "N",
        CustomParser = ParseDays,
    };

    private readonly Option<string> _tokenName = new("--name")
    {
        Description = "the new token's name, as the token list shows it (default: recovery-admin)", HelpName = "NAME",
        DefaultValueFactory = _ => "recovery-admin",
    };

    public OperationsCommands(IConfiguration config, TextWriter stdout, TimeProvider clock)
    {
        (_config, _stdout, _clock) = (config, stdout, clock);
        Root.Options.Remove(Root.Options.OfType<VersionOption>().Single()); // `wirety-server --version` would start the server

        var backup = new Command("backup", "write a consistent snapshot of the event store (servers keep running)") { _out, _backupHmacKey };
        backup.Validators.Add(r => { if (r.GetResult(_out) is null) r.AddError("backup needs --out FILE"); });
        backup.SetAction(BackupAsync);

        var restore = new Command("restore", "restore a backup into an empty database, then rebuild every projection (servers stopped)")
        {
            _in, _force, _restoreHmacKey, _ignoreConnectedServers,
        };
        restore.Validators.Add(r => { if (r.GetResult(_in) is null) r.AddError("restore needs --in FILE"); });
        restore.SetAction(RestoreAsync);

        var list = new Command("list", "the registered projections and the documents they own");
        list.SetAction(ListAsync);
        var rebuild = new Command("rebuild", "rebuild all projections, or the one named") { _projection };
        rebuild.SetAction(RebuildAsync);
        var projections = new Command("projections", "list or rebuild the projections") { list, rebuild };

        var archive = new Command("archive", "archive heartbeat events older than N days") { _olderThanDays };
        archive.SetAction(ArchiveAsync);
        var purge = new Command("purge", "delete archived heartbeat events received before a time, for good") { _archivedBefore, _yes };
        purge.Validators.Add(r => { if (r.GetResult(_archivedBefore) is null) r.AddError("purge needs --archived-before TIME"); });
        purge.SetAction(PurgeAsync);
        var heartbeats = new Command("heartbeats", "heartbeat retention") { archive, purge };

        var issueAdmin = new Command("issue-admin",
            "issue a new admin API token and print it (recovery when no usable admin token is left)") { _tokenName };
        issueAdmin.Validators.Add(r =>
        {
            if (r.GetValue(_tokenName) is not { } n || string.IsNullOrWhiteSpace(n) || n.Length > 64 || n.Trim() != n)
                r.AddError("--name must be 1–64 characters without leading or trailing spaces");
        });
        issueAdmin.SetAction(IssueAdminAsync);
        var tokens = new Command("tokens", "API tokens") { issueAdmin };

        // `wirety-server help` as well as --help.
        var help = new Command("help", "show help") { Hidden = true };
        help.SetAction(r => Root.Parse(["--help"]).Invoke(r.InvocationConfiguration));

        foreach (var command in new[] { backup, restore, projections, heartbeats, tokens, help })
            Root.Subcommands.Add(command);
    }

    private Task<int> BackupAsync(ParseResult parsed, CancellationToken ct) =>
        OperationsCommandLine.WithStoreAsync(_config, async (store, cs) =>
        {
            var key = HmacKey(parsed, _backupHmacKey);
            var result = await BackupCommand.RunAsync(store, cs, parsed.GetRequiredValue(_out), _clock, ct, key);
            await _stdout.WriteLineAsync(
                $"backup written to {result.Path} ({result.Bytes:N0} bytes): {Describe(result.Manifest.Tables)}; " +
                $"highest sequence {result.Manifest.HighestSequence}; sha256 {result.Manifest.Sha256}" + (key is null ? "" : "; signed (HMAC-SHA256)"));
            return OperationsCommandLine.Ok;
        });

    private Task<int> RestoreAsync(ParseResult parsed, CancellationToken ct) =>
        OperationsCommandLine.WithStoreAsync(_config, async (store, cs) =>
        {
            var result = await RestoreCommand.RunAsync(store, cs, parsed.GetRequiredValue(_in), parsed.GetValue(_force), ct,
                HmacKey(parsed, _restoreHmacKey), parsed.GetValue(_ignoreConnectedServers));
            if (result.Wiped) await _stdout.WriteLineAsync("--force: deleted the existing Wirety events, streams and documents");
            await _stdout.WriteLineAsync(
                $"restored {Describe(result.Restored)} (backup of {result.Manifest.CreatedAt:u}, Wirety {result.Manifest.WiretyVersion}); " +
                $"rebuilt {string.Join(", ", result.Rebuild.Projections)} from {result.Rebuild.Events:N0} events in {result.Rebuild.Elapsed.TotalSeconds:F1} s");
            return OperationsCommandLine.Ok;
        });

    private async Task<int> ListAsync(ParseResult parsed, CancellationToken ct)
    {
        var layout = new StoreLayout(OperationsCommandLine.BuildStore("Host=unused"));
        foreach (var p in layout.Projections)
            await _stdout.WriteLineAsync($"{p.Name}\t{p.Source.Lifecycle}\t{string.Join(", ", p.DocumentTypes.Select(t => t.Name))}");
        await _stdout.WriteLineAsync($"(not projected, kept in backups: {string.Join(", ", layout.StateDocumentTypes.Select(t => t.Name))})");
        return OperationsCommandLine.Ok;
    }

    private Task<int> RebuildAsync(ParseResult parsed, CancellationToken ct) =>
        OperationsCommandLine.WithStoreAsync(_config, async (store, cs) =>
        {
            var name = parsed.GetValue(_projection);
            var all = new StoreLayout(store);
            IReadOnlyList<ProjectionInfo> chosen = all.Projections;
            if (name is not null)
            {
                var one = all.FindProjection(name) ?? throw new OperationFailedException(
                    $"no projection named {name}; the projections are: {string.Join(", ", all.Projections.Select(p => p.Name))}.");
                if (one.Tables.Count == 0)
                    throw new OperationFailedException($"projection {one.Name} declares no documents it owns, so it cannot be rebuilt alone; rebuild all.");
                chosen = [one];
            }
            await using var conn = new NpgsqlConnection(cs);
            await conn.OpenAsync(ct);
            if ((await all.ColumnsAsync(conn, StoreLayout.Events, ct)).Count == 0)
                throw new OperationFailedException($"there is no Wirety event store (schema {all.Schema}) in this database.");
            await using var tx = await conn.BeginTransactionAsync(ct);
            var result = await ProjectionRebuild.RunAsync(store, tx, chosen, ct);
            await tx.CommitAsync(ct);
            await _stdout.WriteLineAsync(
                $"rebuilt {string.Join(", ", result.Projections)} from {result.Events:N0} events ({result.Commits:N0} commits) " +
                $"in {result.Elapsed.TotalSeconds:F1} s ({result.EventsPerSecond:N0} events/s)");
            return OperationsCommandLine.Ok;
        });

    private Task<int> ArchiveAsync(ParseResult parsed, CancellationToken ct)
    {
        var days = parsed.GetValue(_olderThanDays) ?? ConfiguredRetentionDays();
        return OperationsCommandLine.WithStoreAsync(_config, async (_, cs) =>
        {
            var cutoff = _clock.GetUtcNow() - TimeSpan.FromDays(days);
            var archived = await new HeartbeatArchiver(cs).ArchiveAsync(cutoff, ct)
                           ?? throw new OperationFailedException("another instance is archiving heartbeats right now; try again later.");
            await _stdout.WriteLineAsync($"archived {archived:N0} heartbeat events received before {cutoff:u}");
            return OperationsCommandLine.Ok;
        });
    }

    private Task<int> PurgeAsync(ParseResult parsed, CancellationToken ct)
    {
        var before = parsed.GetValue(_archivedBefore)!.Value;
        return OperationsCommandLine.WithStoreAsync(_config, async (_, cs) =>
        {
            var archiver = new HeartbeatArchiver(cs);
            if (!parsed.GetValue(_yes))
            {
                var count = await archiver.CountPurgeableAsync(before, ct);
                throw new OperationFailedException(
                    $"purge would delete {count:N0} archived heartbeat events received before {before:u}, for good (backups taken before keep them). " +
                    "Nothing was deleted: add --yes to delete them.");
            }
            var purged = await archiver.PurgeAsync(before, ct)
                         ?? throw new OperationFailedException("another instance is archiving or purging heartbeats right now; try again later.");
            await _stdout.WriteLineAsync($"purged {purged:N0} archived heartbeat events received before {before:u} ({archiver.LastRunBatches} batches)");
            return OperationsCommandLine.Ok;
        });
    }

    /// <summary>The HMAC key from the option, else from WIRETY_BACKUP_HMAC_KEY_FILE, else none.</summary>
    private BackupKey? HmacKey(ParseResult parsed, Option<string> option) =>
        (parsed.GetValue(option) ?? _config[BackupKey.Variable]) is { Length: > 0 } file ? BackupKey.Load(file) : null;

    private static DateTimeOffset? ParseTime(ArgumentResult r)
    {
        if (r.Tokens is not [var t]) return null;
        if (DateTimeOffset.TryParse(t.Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
            return at;
        r.AddError($"--archived-before must be a date or time in ISO 8601 (e.g. 2026-01-01 or 2026-01-01T00:00:00Z), not '{t.Value}'");
        return null;
    }

    private Task<int> IssueAdminAsync(ParseResult parsed, CancellationToken ct) =>
        OperationsCommandLine.WithStoreAsync(_config, async (store, _) =>
        {
            var name = parsed.GetValue(_tokenName)!;
            var (id, value) = await IssueAdminTokenCommand.RunAsync(store, name, null, _clock, ct);
            // The value is the command's output, shown this once (only its hash is stored); the last line alone.
            await _stdout.WriteLineAsync($"issued admin token '{name}' ({id}); revoke it with DELETE /api/v1/tokens/{id}. Its value, shown once:");
            await _stdout.WriteLineAsync(value);
            return OperationsCommandLine.Ok;
        });

    private int ConfiguredRetentionDays()
    {
        int days;
        try { days = HeartbeatRetentionOptions.From(_config).RetentionDays; }
        catch (InvalidOperationException e) { throw new UsageError(e.Message); }
        if (days == 0) throw new UsageError($"{HeartbeatRetentionOptions.Variable}=0 turns archiving off; pass --older-than-days N");
        return days;
    }

    private static int? ParseDays(ArgumentResult r)
    {
        if (r.Tokens is not [var t]) return null; // arity errors are reported by the parser
        if (int.TryParse(t.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var days) && days is >= 1 and <= 36_500) return days;
        r.AddError($"--older-than-days must be a whole number of days from 1 to 36500, not '{t.Value}'");
        return null;
    }

    private static string Describe(IEnumerable<BackupTableCount> tables) => string.Join(", ", tables.Select(t => $"{t.Name} {t.Rows:N0}"));
}
