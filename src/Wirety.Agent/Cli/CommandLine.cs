using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.RegularExpressions;
using Wirety.Agent.Running;
using Wirety.Agent.Server;
using Wirety.Agent.State;
using Wirety.Events.Addressing;
using Verb = System.CommandLine.Command;

namespace Wirety.Agent.Cli;

/// <summary>
/// <c>wirety-agent COMMAND [options]</c> on System.CommandLine: the commands and options with their
/// checks (<see cref="AgentCommands"/>), turned into a <see cref="Command"/> record or a <see cref="UsageException"/>.
/// </summary>
public static partial class CommandLine
{
    public const int UsageExitCode = 2;
    public const string DefaultInterface = "wirety0";
    public static readonly TimeSpan DefaultHeartbeat = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan DefaultPoll = TimeSpan.FromSeconds(60);
    public const string ExitCodes = "exit codes: 0 ok · 1 failure · 2 usage error · 3 session revoked (re-enroll)";

    /// <exception cref="UsageException">What is wrong with the arguments.</exception>
    public static Command Parse(IReadOnlyList<string> args, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        var cli = new AgentCommands(environment ?? Environment.GetEnvironmentVariable);
        var parsed = cli.Root.Parse(args);
        var command = parsed.CommandResult.Command;
        if (parsed.Action is HelpAction) return new HelpCommand(parsed);
        if (command == cli.Help) return new HelpCommand(cli.Root.Parse(["--help"]));
        if (command == cli.Version || (parsed.Errors.Count == 0 && parsed.GetResult(cli.VersionOption) is not null)) return new VersionCommand();
        if (UsageErrors.Describe(parsed, args) is { } error) throw new UsageException(error);

        if (command == cli.Enroll)
        {
            var token = parsed.GetValue(cli.Token) ?? cli.Environment("WIRETY_ENROLL_TOKEN")!;
            var fromStdin = token == "-";
            return new EnrollCommand(parsed.GetValue(cli.Server)!, fromStdin ? null : new Identity.Secret(token.Trim()), fromStdin,
                parsed.GetValue(cli.StateDir)!, parsed.GetValue(cli.Hostname), parsed.GetValue(cli.Force), parsed.GetValue(cli.InsecureHttp));
        }
        if (command == cli.Run)
            return new RunCommand(new RunOptions(
                parsed.GetValue(cli.StateDir)!,
                parsed.GetValue(cli.Interface)!,
                parsed.GetValue(cli.Userspace),
                parsed.GetValue(cli.HeartbeatInterval) ?? DefaultHeartbeat,
                parsed.GetValue(cli.PollInterval) ?? DefaultPoll,
                parsed.GetValue(cli.Endpoint) ?? [],
                parsed.GetValue(cli.Verbose),
                InsecureHttp: parsed.GetValue(cli.InsecureHttp),
                AllowRouting: parsed.GetValue(cli.AllowRouting),
                AllowFullTunnel: parsed.GetValue(cli.AllowFullTunnel)));
        if (command == cli.Status)
            return new StatusCommand(parsed.GetValue(cli.StateDir)!, parsed.GetValue(cli.Interface)!);
        if (command == cli.RotateKey)
            return new RotateKeyCommand(parsed.GetValue(cli.StateDir)!, parsed.GetValue(cli.InsecureHttp));
        throw new UsageException("no command given");
    }

    /// <summary>
    /// What Program does before running a command: prints help or the version (exit 0) or a usage error
    /// (exit 2), or hands back the command to run.
    /// </summary>
    public static (Command? Command, int ExitCode) Interpret(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr,
        Func<string, string?>? environment = null)
    {
        try
        {
            switch (Parse(args, environment))
            {
                case HelpCommand help:
                    help.Request.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
                    return (null, 0);
                case VersionCommand:
                    stdout.WriteLine($"wirety-agent {AgentVersion.Current}");
                    return (null, 0);
                case var command:
                    return (command, 0);
            }
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"wirety-agent: {e.Message}");
            stderr.WriteLine($"run 'wirety-agent {(args.Count > 0 && args[0] is "enroll" or "run" or "status" or "rotate-key" ? args[0] + " " : "")}--help' for usage");
            return (null, UsageExitCode);
        }
    }

    /// <summary>"30s", "2m", "1h", "500ms" or plain seconds.</summary>
    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        var m = DurationPattern().Match(text.Trim());
        if (!m.Success || !double.TryParse(m.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n)) return false;
        value = m.Groups[2].Value switch
        {
            "ms" => TimeSpan.FromMilliseconds(n),
            "" or "s" => TimeSpan.FromSeconds(n),
            "m" => TimeSpan.FromMinutes(n),
            "h" => TimeSpan.FromHours(n),
            _ => default,
        };
        return value > TimeSpan.Zero;
    }

    internal static bool IsInterfaceName(string name) => InterfaceName().IsMatch(name) && name is not ("." or "..");

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,14}\z")]
    private static partial Regex InterfaceName();

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)(ms|s|m|h|)\z")]
    private static partial Regex DurationPattern();
}

/// <summary>The agent's commands and options, each option with its own check (its message is the usage error).</summary>
internal sealed class AgentCommands
{
    public Func<string, string?> Environment { get; }
    public RootCommand Root { get; } = new($"wirety-agent: keeps this machine's WireGuard interface in a Wirety mesh.\n\n{CommandLine.ExitCodes}")
    {
        HelpName = "wirety-agent",
    };
    public VersionOption VersionOption { get; }
    public Verb Enroll { get; } = new("enroll", "join a network with a one-time enrollment token");
    public Verb Run { get; } = new("run", "keep the WireGuard interface converged with the server's config");
    public Verb Status { get; } = new("status", "show identity, last config/heartbeat, and the interface's peers");
    public Verb RotateKey { get; } = new("rotate-key",
        "replace this peer's WireGuard key pair: a new pair here, the new public key to the server (a running agent switches to it)");
    // `wirety-agent help` and `wirety-agent version` as well as the options.
    public Verb Help { get; } = new("help", "show help") { Hidden = true };
    public Verb Version { get; } = new("version", "show the version") { Hidden = true };

    public Option<Uri> Server { get; } = new("--server")
    {
        Description = "Wirety server, e.g. https://wirety.example.com (required)", HelpName = "URL", CustomParser = ParseServer,
    };
    public Option<string> Token { get; } = new("--token")
    {
        Description = "enrollment token (required; \"-\" reads it from stdin; or set WIRETY_ENROLL_TOKEN). Used once, never stored.",
        HelpName = "TOKEN",
    };
    public Option<string> StateDir { get; } = new("--state-dir")
    {
        Description = "where identity and state live", HelpName = "DIR", DefaultValueFactory = _ => StateStore.DefaultDirectory,
    };
    public Option<string> Hostname { get; } = new("--hostname") { Description = "name reported to the server (default: this host's name)", HelpName = "NAME" };
    public Option<bool> Force { get; } = Flag("--force", "replace an existing identity in DIR");
    public Option<string> Interface { get; } = new("--interface")
    {
        Description = "WireGuard interface", HelpName = "NAME", DefaultValueFactory = _ => CommandLine.DefaultInterface,
    };
    public Option<bool> Userspace { get; } = Flag("--userspace", "use wireguard-go even if the kernel has WireGuard");
    public Option<TimeSpan?> HeartbeatInterval { get; } = Duration("--heartbeat-interval", "how often to heartbeat, e.g. 30s (default), 2m");
    public Option<TimeSpan?> PollInterval { get; } = Duration("--poll-interval", "config poll when no push arrives, e.g. 60s (default)");
    public Option<string[]> Endpoint { get; } = new("--endpoint") { Description = "public endpoint to advertise (repeatable)", HelpName = "HOST:PORT" };
    public Option<bool> Verbose { get; } = Flag("--verbose", "debug logging");
    public Option<bool> InsecureHttp { get; } = Flag("--insecure-http",
        "allow a plain http:// server that is not on loopback (tokens and configs cross the network unencrypted)");
    public Option<bool> AllowRouting { get; } = Flag("--allow-routing",
        "let a non-jump peer forward and masquerade for others when the server routes a subnet or exit through it");
    public Option<bool> AllowFullTunnel { get; } = Flag("--allow-full-tunnel",
        "apply default routes (0.0.0.0/0, ::/0) and routes covering the server's address from the config");

    public AgentCommands(Func<string, string?> environment)
    {
        Environment = environment;
        VersionOption = Root.Options.OfType<VersionOption>().Single();

        Token.Validators.Add(r =>
        {
            if (r.Tokens is [var t] && string.IsNullOrWhiteSpace(t.Value)) r.AddError("--token must not be empty");
        });
        StateDir.Validators.Add(r =>
        {
            if (r.Tokens is [var t] && (t.Value.Length == 0 || t.Value.Contains('\0', StringComparison.Ordinal)))
                r.AddError("--state-dir must be a directory path");
        });
        Hostname.Validators.Add(r =>
        {
            if (r.Tokens is [var t] && (t.Value.Length is 0 or > 253 || t.Value.Any(char.IsControl)))
                r.AddError("--hostname must be 1-253 printable characters");
        });
        Interface.Validators.Add(r =>
        {
            if (r.Tokens is [var t] && !CommandLine.IsInterfaceName(t.Value))
                r.AddError($"--interface must be 1-15 characters of letters, digits, '_', '-', '.', not '{t.Value}'");
        });
        Endpoint.Validators.Add(r =>
        {
            if (r.Tokens.FirstOrDefault(t => !WireGuardEndpoint.IsWellFormed(t.Value)) is { } bad)
                r.AddError($"--endpoint must be HOST:PORT, not '{bad.Value}'");
        });

        Enroll.Options.Add(Server);
        Enroll.Options.Add(Token);
        Enroll.Options.Add(StateDir);
        Enroll.Options.Add(Hostname);
        Enroll.Options.Add(Force);
        Enroll.Options.Add(InsecureHttp);
        // Required by hand rather than with Option.Required: the token may come from the environment.
        Enroll.Validators.Add(r =>
        {
            if (r.GetResult(Server) is null) r.AddError("enroll needs --server URL");
            else if (r.GetResult(Token) is null && string.IsNullOrWhiteSpace(Environment("WIRETY_ENROLL_TOKEN")))
                r.AddError("enroll needs --token TOKEN (or --token - to read it from stdin)");
        });

        foreach (var option in new Option[] { StateDir, Interface, Userspace, HeartbeatInterval, PollInterval, Endpoint, Verbose, InsecureHttp, AllowRouting, AllowFullTunnel })
            Run.Options.Add(option);
        Status.Options.Add(StateDir);
        Status.Options.Add(Interface);
        RotateKey.Options.Add(StateDir);
        RotateKey.Options.Add(InsecureHttp);

        foreach (var verb in new[] { Enroll, Run, Status, RotateKey, Help, Version })
            Root.Subcommands.Add(verb);
    }

    /// <summary>An on/off option: <c>--userspace</c>, never <c>--userspace true</c>.</summary>
    private static Option<bool> Flag(string name, string description) => new(name) { Description = description, Arity = ArgumentArity.Zero };

    private static Option<TimeSpan?> Duration(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "DURATION",
        CustomParser = r =>
        {
            if (r.Tokens is not [var t]) return null; // arity errors are reported by the parser
            if (!CommandLine.TryParseDuration(t.Value, out var value))
                r.AddError($"{name} must be a duration like 30s, 2m or 1h, not '{t.Value}'");
            else if (value < MinimumInterval)
                r.AddError($"{name} must be at least {MinimumInterval.TotalSeconds:0}s");
            return value;
        },
    };

    private static readonly TimeSpan MinimumInterval = TimeSpan.FromSeconds(5);

    private static Uri? ParseServer(ArgumentResult r)
    {
        if (r.Tokens is not [var t]) return null;
        if (!Uri.TryCreate(t.Value, UriKind.Absolute, out var server) || server.Scheme is not ("http" or "https")
            || string.IsNullOrEmpty(server.Host) || !string.IsNullOrEmpty(server.Query) || !string.IsNullOrEmpty(server.UserInfo))
        {
            r.AddError($"--server must be an http(s) URL without query or credentials, not '{t.Value}'");
            return null;
        }
        return server;
    }
}
