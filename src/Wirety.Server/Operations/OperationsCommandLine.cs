using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using Marten;
using Npgsql;
using Wirety.Server.Hosting;

namespace Wirety.Server.Operations;

/// <summary>
/// The server executable's operator commands (<c>wirety-server backup ...</c>), dispatched before any
/// web host is built, parsed and helped (<c>--help</c>) by System.CommandLine (<see cref="OperationsCommands"/>).
/// They read WIRETY_DB (and WIRETY_HEARTBEAT_RETENTION_DAYS) from the environment, as the server does.
/// Exit codes: 0 done, 1 refused or failed (nothing changed), 2 bad usage.
/// </summary>
public static class OperationsCommandLine
{
    public const int Ok = 0, Failed = 1, Usage = 2;
    public const string OperationsApplicationName = "wirety-ops";
    private static readonly string[] Commands = ["backup", "restore", "projections", "heartbeats", "tokens", "help", "--help", "-h"];

    /// <summary>True when the arguments name an operator command (or ask for their help) rather than server options.</summary>
    public static bool Handles(string[] args) => args.Length > 0 && Commands.Contains(args[0]);

    public static async Task<int> RunAsync(string[] args, IConfiguration config, TextWriter stdout, TextWriter stderr,
        TimeProvider? clock = null, CancellationToken ct = default)
    {
        var commands = new OperationsCommands(config, stdout, clock ?? TimeProvider.System);
        var parsed = commands.Root.Parse(args);
        if (parsed.Action is not HelpAction && Describe(parsed, args) is { } error)
            return await UsageErrorAsync(stderr, error, commands.Root, parsed.CommandResult);

        try
        {
            // No default exception handler (the messages below say what failed) and no Ctrl+C handling
            // of its own: an interrupted command is rolled back by PostgreSQL like any other failure.
            return await parsed.InvokeAsync(new InvocationConfiguration
            {
                Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null,
            }, ct);
        }
        catch (UsageError e)
        {
            return await UsageErrorAsync(stderr, e.Message, commands.Root, e.ShowHelp ? parsed.CommandResult : null);
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

    internal static async Task<int> WithStoreAsync(IConfiguration config, Func<IDocumentStore, string, Task<int>> run)
    {
        var cs = config["WIRETY_DB"];
        if (string.IsNullOrWhiteSpace(cs))
            throw new UsageError("WIRETY_DB is not set: set it to the Npgsql connection string of the server's database.", showHelp: false);
        // Not the server's name: restore must not take these commands' own connections for a running server.
        cs = WiretySettings.WithApplicationName(cs, OperationsApplicationName);
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

    internal static DocumentStore BuildStore(string connectionString) =>
        DocumentStore.For(opts => ServerStore.Configure(opts, connectionString));

    /// <summary>The message, then the help of the command it concerns (a configuration problem needs no help).</summary>
    private static async Task<int> UsageErrorAsync(TextWriter stderr, string message, RootCommand root, CommandResult? where)
    {
        await stderr.WriteLineAsync($"wirety-server: {message}");
        if (where is null) return Usage;
        var path = new List<string>();
        for (SymbolResult? r = where; r is CommandResult { Command: not RootCommand } c; r = c.Parent) path.Insert(0, c.Command.Name);
        root.Parse([.. path, "--help"]).Invoke(new InvocationConfiguration { Output = stderr });
        return Usage;
    }

    /// <summary>
    /// The first problem with a parse, in the words these commands have always used (System.CommandLine's
    /// own wording, e.g. "Unrecognized command or argument", is replaced).
    /// </summary>
    private static string? Describe(ParseResult parsed, string[] args)
    {
        var command = parsed.CommandResult;
        // System.CommandLine splits `--force=yes` and leaves "yes" unmatched; say what was meant.
        foreach (var arg in args)
        {
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0
                && command.Command.Options.FirstOrDefault(o => o.Name == arg[..eq]) is { Arity.MaximumNumberOfValues: 0 } flag)
                return $"{flag.Name} takes no value";
        }
        // `--out --force` would write to a file named "--force": an option's value never looks like an option.
        foreach (var option in command.Children.OfType<OptionResult>())
            if (option.Tokens.Any(t => t.Value.StartsWith("--", StringComparison.Ordinal)))
                return $"{option.Option.Name} needs a value";

        if (parsed.Errors.Count == 0) return null;
        if (parsed.UnmatchedTokens is [var unmatched, ..])
            return unmatched.StartsWith('-') ? $"unknown option {unmatched}"
                : command.Command.Subcommands.Count > 0 ? $"unknown {command.Command.Name} subcommand '{unmatched}'"
                : $"unexpected argument '{unmatched}'";

        var error = parsed.Errors[0];
        return error.SymbolResult switch
        {
            OptionResult { IdentifierTokenCount: > 1 } o => $"{o.Option.Name} given more than once",
            OptionResult { Tokens.Count: 0 } o when o.Option.Arity.MinimumNumberOfValues > 0 => $"{o.Option.Name} needs a value",
            CommandResult { Command: var c } when c.Subcommands.Count > 0 =>
                $"{c.Name} needs a subcommand: {string.Join(" or ", c.Subcommands.Where(s => !s.Hidden).Select(s => s.Name))}",
            _ => error.Message,
        };
    }
}

/// <summary>Bad usage found while running a command (e.g. a missing setting): exit code 2.</summary>
internal sealed class UsageError(string message, bool showHelp = true) : Exception(message)
{
    public bool ShowHelp { get; } = showHelp;
}
