using System.Globalization;
using System.Text.RegularExpressions;
using Wirety.Agent.Networking;
using Wirety.Agent.Running;
using Wirety.Agent.State;

namespace Wirety.Agent.Cli;

public abstract record Command;
public sealed record HelpCommand : Command;
public sealed record VersionCommand : Command;

/// <param name="Token">From <c>--token</c> or WIRETY_ENROLL_TOKEN; null means "read it from stdin" (<c>--token -</c>). A <see cref="Identity.Secret"/>, so printing the command never shows it.</param>
public sealed record EnrollCommand(Uri Server, Identity.Secret? Token, bool TokenFromStdin, string StateDirectory, string? Hostname, bool Force) : Command;
public sealed record RunCommand(RunOptions Options) : Command;
public sealed record StatusCommand(string StateDirectory, string Interface) : Command;

public sealed class UsageException(string message) : Exception(message);

/// <summary>Hand-rolled parsing of <c>wirety-agent COMMAND [--option value | --option=value]...</c>.</summary>
public static partial class CommandLine
{
    public const int UsageExitCode = 2;
    public const string DefaultInterface = "wirety0";
    public static readonly TimeSpan DefaultHeartbeat = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan DefaultPoll = TimeSpan.FromSeconds(60);

    public const string Usage = """
        usage: wirety-agent <command> [options]

        commands:
          enroll   join a network with a one-time enrollment token
                     --server URL          Wirety server, e.g. https://wirety.example.com (required)
                     --token TOKEN         enrollment token (required; "-" reads it from stdin;
                                           or set WIRETY_ENROLL_TOKEN). Used once, never stored.
                     --state-dir DIR       where identity and state live (default /var/lib/wirety)
                     --hostname NAME       name reported to the server (default: this host's name)
                     --force               replace an existing identity in DIR
          run      keep the WireGuard interface converged with the server's config
                     --state-dir DIR       (default /var/lib/wirety)
                     --interface NAME      WireGuard interface (default wirety0)
                     --userspace           use wireguard-go even if the kernel has WireGuard
                     --heartbeat-interval  e.g. 30s (default), 2m
                     --poll-interval       config poll when no push arrives, e.g. 60s (default)
                     --endpoint HOST:PORT  public endpoint to advertise (repeatable)
                     --verbose             debug logging
          status   show identity, last config/heartbeat, and the interface's peers
                     --state-dir DIR, --interface NAME
          help, --help, --version

        exit codes: 0 ok · 1 failure · 2 usage error · 3 session revoked (re-enroll)
        """;

    /// <exception cref="UsageException">What is wrong with the arguments.</exception>
    public static Command Parse(IReadOnlyList<string> args, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        environment ??= Environment.GetEnvironmentVariable;
        if (args.Count == 0) throw new UsageException("no command given");
        var verb = args[0];
        var rest = args.Skip(1).ToList();
        return verb switch
        {
            "help" or "-h" or "--help" => new HelpCommand(),
            "version" or "--version" => new VersionCommand(),
            "enroll" => ParseEnroll(Options.Read(rest, ["--server", "--token", "--state-dir", "--hostname"], ["--force"]), environment),
            "run" => ParseRun(Options.Read(rest,
                ["--state-dir", "--interface", "--heartbeat-interval", "--poll-interval", "--endpoint"], ["--userspace", "--verbose"])),
            "status" => ParseStatus(Options.Read(rest, ["--state-dir", "--interface"], [])),
            _ => throw new UsageException($"unknown command '{verb}'"),
        };
    }

    private static EnrollCommand ParseEnroll(Options o, Func<string, string?> environment)
    {
        if (o.Help) throw new HelpRequested();
        var serverText = o.Single("--server") ?? throw new UsageException("enroll needs --server URL");
        if (!Uri.TryCreate(serverText, UriKind.Absolute, out var server) || server.Scheme is not ("http" or "https")
            || string.IsNullOrEmpty(server.Host) || !string.IsNullOrEmpty(server.Query) || !string.IsNullOrEmpty(server.UserInfo))
            throw new UsageException($"--server must be an http(s) URL without query or credentials, not '{serverText}'");
        var token = o.Single("--token");
        var fromStdin = token == "-";
        if (token is null)
        {
            token = environment("WIRETY_ENROLL_TOKEN");
            if (string.IsNullOrWhiteSpace(token)) throw new UsageException("enroll needs --token TOKEN (or --token - to read it from stdin)");
        }
        if (!fromStdin && string.IsNullOrWhiteSpace(token)) throw new UsageException("--token must not be empty");
        var hostname = o.Single("--hostname");
        if (hostname is not null && (hostname.Length is 0 or > 253 || hostname.Any(char.IsControl)))
            throw new UsageException("--hostname must be 1-253 printable characters");
        return new EnrollCommand(server, fromStdin ? null : new Identity.Secret(token.Trim()), fromStdin, StateDir(o), hostname, o.Flag("--force"));
    }

    private static RunCommand ParseRun(Options o)
    {
        if (o.Help) throw new HelpRequested();
        var endpoints = o.All("--endpoint");
        foreach (var e in endpoints)
            if (!Endpoints.IsWellFormed(e)) throw new UsageException($"--endpoint must be HOST:PORT, not '{e}'");
        return new RunCommand(new RunOptions(
            StateDir(o),
            Interface(o),
            o.Flag("--userspace"),
            Duration(o, "--heartbeat-interval", DefaultHeartbeat, TimeSpan.FromSeconds(5)),
            Duration(o, "--poll-interval", DefaultPoll, TimeSpan.FromSeconds(5)),
            endpoints,
            o.Flag("--verbose")));
    }

    private static StatusCommand ParseStatus(Options o)
    {
        if (o.Help) throw new HelpRequested();
        return new StatusCommand(StateDir(o), Interface(o));
    }

    private static string StateDir(Options o)
    {
        var dir = o.Single("--state-dir") ?? StateStore.DefaultDirectory;
        if (dir.Length == 0 || dir.Contains('\0', StringComparison.Ordinal)) throw new UsageException("--state-dir must be a directory path");
        return dir;
    }

    private static string Interface(Options o)
    {
        var name = o.Single("--interface") ?? DefaultInterface;
        if (!InterfaceName().IsMatch(name) || name is "." or "..")
            throw new UsageException($"--interface must be 1-15 characters of letters, digits, '_', '-', '.', not '{name}'");
        return name;
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

    private static TimeSpan Duration(Options o, string name, TimeSpan fallback, TimeSpan minimum)
    {
        var text = o.Single(name);
        if (text is null) return fallback;
        if (!TryParseDuration(text, out var value)) throw new UsageException($"{name} must be a duration like 30s, 2m or 1h, not '{text}'");
        if (value < minimum) throw new UsageException($"{name} must be at least {minimum.TotalSeconds:0}s");
        return value;
    }

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,14}$")]
    private static partial Regex InterfaceName();

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)(ms|s|m|h|)$")]
    private static partial Regex DurationPattern();

    /// <summary>Thrown for <c>COMMAND --help</c>.</summary>
    public sealed class HelpRequested : Exception;

    private sealed class Options
    {
        private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
        private readonly HashSet<string> _flags = new(StringComparer.Ordinal);
        public bool Help { get; private set; }

        public static Options Read(IReadOnlyList<string> args, string[] valued, string[] flags)
        {
            var o = new Options();
            for (var i = 0; i < args.Count; i++)
            {
                var arg = args[i];
                if (arg is "-h" or "--help") { o.Help = true; continue; }
                if (!arg.StartsWith("--", StringComparison.Ordinal)) throw new UsageException($"unexpected argument '{arg}'");
                var eq = arg.IndexOf('=', StringComparison.Ordinal);
                var name = eq < 0 ? arg : arg[..eq];
                if (flags.Contains(name))
                {
                    if (eq >= 0) throw new UsageException($"{name} takes no value");
                    o._flags.Add(name);
                    continue;
                }
                if (!valued.Contains(name)) throw new UsageException($"unknown option '{name}'");
                string value;
                if (eq >= 0) value = arg[(eq + 1)..];
                else if (i + 1 < args.Count && (!args[i + 1].StartsWith("--", StringComparison.Ordinal))) value = args[++i];
                else throw new UsageException($"{name} needs a value");
                if (!o._values.TryGetValue(name, out var list)) o._values[name] = list = [];
                list.Add(value);
            }
            return o;
        }

        public string? Single(string name)
        {
            if (!_values.TryGetValue(name, out var list)) return null;
            if (list.Count > 1) throw new UsageException($"{name} given more than once");
            return list[0];
        }

        public IReadOnlyList<string> All(string name) => _values.TryGetValue(name, out var list) ? list : [];

        public bool Flag(string name) => _flags.Contains(name);
    }
}
