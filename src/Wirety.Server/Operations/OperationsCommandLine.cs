using System.Globalization;
using Marten;
using Npgsql;
using Wirety.Projections;

namespace Wirety.Server.Operations;

/// <summary>
/// The server executable's operator commands (<c>wirety-server backup ...</c>), dispatched before any
/// web host is built. They use the server's configuration (WIRETY_DB from the environment, or
/// <c>--WIRETY_DB=...</c>). Exit codes: 0 done, 1 refused or failed (nothing changed), 2 bad usage.
/// </summary>
public static class OperationsCommandLine
{
    public const int Ok = 0, Failed = 1, Usage = 2;
    private static readonly string[] Commands = ["backup", "restore", "projections", "heartbeats", "help"];

    public const string UsageText =
        """
        usage: wirety-server <command> [options]      (no command: run the server)

          backup --out FILE               consistent snapshot of the event store while servers run
          restore --in FILE [--force]     into an empty database, then rebuild every projection;
                                          --force first deletes all Wirety events, streams and documents
          projections list                the registered projections and the documents they own
          projections rebuild [NAME]      rebuild all projections, or the one named
          heartbeats archive [--older-than-days N]
                                          archive heartbeat events older than N days
                                          (default: WIRETY_HEARTBEAT_RETENTION_DAYS, else 30)

        Configuration as for the server: WIRETY_DB (an Npgsql connection string) in the environment.
        """;

    /// <summary>True when the arguments name an operator command rather than server options.</summary>
    public static bool Handles(string[] args) => args.Length > 0 && Commands.Contains(args[0]);

    public static async Task<int> RunAsync(string[] args, IConfiguration config, TextWriter stdout, TextWriter stderr,
        TimeProvider? clock = null, CancellationToken ct = default)
    {
        clock ??= TimeProvider.System;
        var (positional, options, flags, error) = Parse(args.Skip(1));
        if (args[0] == "help") { await stdout.WriteLineAsync(UsageText); return Ok; }
        if (error is not null) return await UsageErrorAsync(stderr, error);

        try
        {
            switch (args[0])
            {
                case "backup":
                    if (!Expect(positional, 0, options, ["out"], flags, [], out error)) return await UsageErrorAsync(stderr, error);
                    if (!options.TryGetValue("out", out var outPath)) return await UsageErrorAsync(stderr, "backup needs --out FILE");
                    return await WithStoreAsync(config, stderr, async (store, cs) =>
                    {
                        var result = await BackupCommand.RunAsync(store, cs, outPath, clock, ct);
                        await stdout.WriteLineAsync(
                            $"backup written to {result.Path} ({result.Bytes:N0} bytes): {Describe(result.Manifest.Tables)}; " +
                            $"highest sequence {result.Manifest.HighestSequence}; sha256 {result.Manifest.Sha256}");
                        return Ok;
                    });

                case "restore":
                    if (!Expect(positional, 0, options, ["in"], flags, ["force"], out error)) return await UsageErrorAsync(stderr, error);
                    if (!options.TryGetValue("in", out var inPath)) return await UsageErrorAsync(stderr, "restore needs --in FILE");
                    return await WithStoreAsync(config, stderr, async (store, cs) =>
                    {
                        var result = await RestoreCommand.RunAsync(store, cs, inPath, flags.Contains("force"), ct);
                        if (result.Wiped) await stdout.WriteLineAsync("--force: deleted the existing Wirety events, streams and documents");
                        await stdout.WriteLineAsync(
                            $"restored {Describe(result.Restored)} (backup of {result.Manifest.CreatedAt:u}, Wirety {result.Manifest.WiretyVersion}); " +
                            $"rebuilt {string.Join(", ", result.Rebuild.Projections)} from {result.Rebuild.Events:N0} events in {result.Rebuild.Elapsed.TotalSeconds:F1} s");
                        return Ok;
                    });

                case "projections" when positional.FirstOrDefault() == "list":
                    if (!Expect(positional, 1, options, [], flags, [], out error)) return await UsageErrorAsync(stderr, error);
                    var layout = new StoreLayout(BuildStore("Host=unused"));
                    foreach (var p in layout.Projections)
                        await stdout.WriteLineAsync($"{p.Name}\t{p.Source.Lifecycle}\t{string.Join(", ", p.DocumentTypes.Select(t => t.Name))}");
                    await stdout.WriteLineAsync($"(not projected, kept in backups: {string.Join(", ", layout.StateDocumentTypes.Select(t => t.Name))})");
                    return Ok;

                case "projections" when positional.FirstOrDefault() == "rebuild":
                    if (!Expect(positional, 2, options, [], flags, [], out error)) return await UsageErrorAsync(stderr, error);
                    var name = positional.ElementAtOrDefault(1);
                    return await WithStoreAsync(config, stderr, async (store, cs) =>
                    {
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
                        await stdout.WriteLineAsync(
                            $"rebuilt {string.Join(", ", result.Projections)} from {result.Events:N0} events ({result.Commits:N0} commits) " +
                            $"in {result.Elapsed.TotalSeconds:F1} s ({result.EventsPerSecond:N0} events/s)");
                        return Ok;
                    });

                case "heartbeats" when positional.FirstOrDefault() == "archive":
                    if (!Expect(positional, 1, options, ["older-than-days"], flags, [], out error)) return await UsageErrorAsync(stderr, error);
                    int days;
                    if (options.TryGetValue("older-than-days", out var raw))
                    {
                        if (!int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out days) || days < 1 || days > 36_500)
                            return await UsageErrorAsync(stderr, $"--older-than-days must be a whole number of days from 1 to 36500, not '{raw}'");
                    }
                    else
                    {
                        try { days = HeartbeatRetentionOptions.From(config).RetentionDays; }
                        catch (InvalidOperationException e) { return await UsageErrorAsync(stderr, e.Message); }
                        if (days == 0) return await UsageErrorAsync(stderr, $"{HeartbeatRetentionOptions.Variable}=0 turns archiving off; pass --older-than-days N");
                    }
                    return await WithStoreAsync(config, stderr, async (_, cs) =>
                    {
                        var cutoff = clock.GetUtcNow() - TimeSpan.FromDays(days);
                        var archived = await new HeartbeatArchiver(cs).ArchiveAsync(cutoff, ct)
                                       ?? throw new OperationFailedException("another instance is archiving heartbeats right now; try again later.");
                        await stdout.WriteLineAsync($"archived {archived:N0} heartbeat events received before {cutoff:u}");
                        return Ok;
                    });

                default:
                    return await UsageErrorAsync(stderr, $"unknown {args[0]} subcommand '{positional.FirstOrDefault()}'");
            }
        }
        catch (Exception e) when (e is BackupRefusedException or OperationFailedException)
        {
            await stderr.WriteLineAsync($"wirety-server {args[0]}: {e.Message}");
            return Failed;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Every command works in one transaction (or not at all), so an unexpected failure still changed nothing.
            await stderr.WriteLineAsync($"wirety-server {args[0]} failed, nothing was changed: {e.GetType().Name}: {e.Message}");
            return Failed;
        }
    }

    private static async Task<int> WithStoreAsync(IConfiguration config, TextWriter stderr, Func<IDocumentStore, string, Task<int>> run)
    {
        var cs = config["WIRETY_DB"];
        if (string.IsNullOrWhiteSpace(cs))
        {
            await stderr.WriteLineAsync("WIRETY_DB is not set: set it to the Npgsql connection string of the server's database.");
            return Usage;
        }
        using var store = BuildStore(cs);
        try
        {
            return await run(store, cs);
        }
        catch (NpgsqlException e) when (e is not PostgresException)
        {
            // Connection-level failure: say where, never echo the connection string (it may hold a password).
            var b = new NpgsqlConnectionStringBuilder(cs);
            throw new OperationFailedException($"cannot reach PostgreSQL at {b.Host}:{b.Port}/{b.Database}: {e.Message}", e);
        }
        catch (PostgresException e)
        {
            throw new OperationFailedException($"PostgreSQL refused the operation ({e.SqlState}: {e.MessageText}); nothing was changed.", e);
        }
    }

    private static DocumentStore BuildStore(string connectionString) =>
        DocumentStore.For(opts => WiretyStore.Configure(opts, connectionString));

    private static string Describe(IEnumerable<BackupTableCount> tables) => string.Join(", ", tables.Select(t => $"{t.Name} {t.Rows:N0}"));

    private static async Task<int> UsageErrorAsync(TextWriter stderr, string message)
    {
        await stderr.WriteLineAsync($"wirety-server: {message}");
        await stderr.WriteLineAsync(UsageText);
        return Usage;
    }

    private static (List<string> Positional, Dictionary<string, string> Options, HashSet<string> Flags, string? Error) Parse(IEnumerable<string> args)
    {
        List<string> positional = [];
        Dictionary<string, string> options = new(StringComparer.Ordinal);
        HashSet<string> flags = new(StringComparer.Ordinal);
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            var arg = e.Current;
            if (!arg.StartsWith("--", StringComparison.Ordinal)) { positional.Add(arg); continue; }
            var name = arg[2..];
            if (name.Contains('=')) { var parts = name.Split('=', 2); options[parts[0]] = parts[1]; continue; }
            if (name is not ("out" or "in" or "older-than-days")) { flags.Add(name); continue; }
            if (!e.MoveNext() || e.Current.StartsWith("--", StringComparison.Ordinal)) return (positional, options, flags, $"--{name} needs a value");
            options[name] = e.Current;
        }
        return (positional, options, flags, null);
    }

    private static bool Expect(List<string> positional, int maxPositional, Dictionary<string, string> options, string[] allowedOptions,
        HashSet<string> flags, string[] allowedFlags, out string error)
    {
        error = "";
        if (positional.Count > maxPositional) error = $"unexpected argument '{positional[maxPositional]}'";
        else if (options.Keys.FirstOrDefault(k => !allowedOptions.Contains(k)) is { } o) error = $"unknown option --{o}";
        else if (flags.FirstOrDefault(f => !allowedFlags.Contains(f)) is { } f) error = $"unknown option --{f}";
        return error.Length == 0;
    }
}
