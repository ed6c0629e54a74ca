using Wirety.Agent.WireGuard;

namespace Wirety.Tests.Agent.Fakes;

/// <summary>
/// A command runner that runs nothing: it records argv and stdin and answers like tools on a host
/// where the interface does not exist yet. For checking what the real controller would execute.
/// </summary>
public sealed class RecordingRunner : ICommandRunner
{
    public List<(string Exe, IReadOnlyList<string> Args, string? Stdin)> Commands { get; } = [];
    public Dictionary<string, string> Files { get; } = [];
    public Func<string, IReadOnlyList<string>, CommandResult?>? Override { get; set; }

    public Task<CommandResult> RunAsync(string exe, IReadOnlyList<string> args, string? stdin, CancellationToken ct)
    {
        Commands.Add((exe, args, stdin));
        var line = exe + " " + string.Join(' ', args);
        if (Override?.Invoke(exe, args) is { } custom) return Task.FromResult(custom);
        if (exe == "ip" && args.Contains("link") && args.Contains("show"))
            return Task.FromResult(new CommandResult(line, 1, "", "Device \"wirety0\" does not exist.\n"));
        if (exe == "ip" && args.Contains("-j")) return Task.FromResult(new CommandResult(line, 0, "[]", ""));
        return Task.FromResult(new CommandResult(line, 0, "", ""));
    }

    public Task<string?> ReadFileAsync(string path, CancellationToken ct) => Task.FromResult(Files.GetValueOrDefault(path));

    public Task WriteFileAsync(string path, string content, CancellationToken ct)
    {
        Files[path] = content;
        return Task.CompletedTask;
    }

    /// <summary>Tools this fake host has.</summary>
    public HashSet<string> Installed { get; } = ["wg", "ip", "wireguard-go", "nft"];

    public bool IsAvailable(string exe) => Installed.Contains(exe);
}
