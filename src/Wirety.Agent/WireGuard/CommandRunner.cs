using System.Diagnostics;
using System.Text;

namespace Wirety.Agent.WireGuard;

/// <summary>The outcome of one external command.</summary>
public sealed record CommandResult(string CommandLine, int ExitCode, string Stdout, string Stderr)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>Runs external tools (wg, ip, nft, ...). Arguments are never secrets: secrets go on stdin.</summary>
public interface ICommandRunner
{
    /// <summary>Runs <paramref name="exe"/> without a shell. Never throws for a non-zero exit.</summary>
    Task<CommandResult> RunAsync(string exe, IReadOnlyList<string> args, string? stdin, CancellationToken ct);

    /// <summary>Reads a small file (e.g. under /proc/sys) in the network namespace the commands run in; null if unreadable.</summary>
    Task<string?> ReadFileAsync(string path, CancellationToken ct);

    /// <summary>Writes a small file (a sysctl) in the network namespace the commands run in.</summary>
    Task WriteFileAsync(string path, string content, CancellationToken ct);

    /// <summary>Whether <paramref name="exe"/> can be found.</summary>
    bool IsAvailable(string exe);
}

/// <summary>
/// Runs commands as child processes, optionally behind a prefix such as <c>ip netns exec NS</c>
/// (tests run the real controller inside a network namespace that way). With a prefix, files under
/// /proc/sys/net are read and written through <c>cat</c>/<c>tee</c> behind the same prefix, because
/// /proc/sys/net shows the namespace of the process reading it.
/// </summary>
public sealed class ProcessCommandRunner(IReadOnlyList<string>? prefix = null, TimeSpan? timeout = null) : ICommandRunner
{
    private static readonly string[] s_extraDirs = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
    private readonly IReadOnlyList<string> _prefix = prefix ?? [];
    private readonly TimeSpan _timeout = timeout ?? TimeSpan.FromSeconds(30);

    public IReadOnlyList<string> Prefix => _prefix;

    public static string? Find(string name)
    {
        if (name.Contains('/', StringComparison.Ordinal)) return File.Exists(name) ? name : null;
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        return path.Concat(s_extraDirs).Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
    }

    public bool IsAvailable(string exe) => Find(exe) is not null;

    public async Task<CommandResult> RunAsync(string exe, IReadOnlyList<string> args, string? stdin, CancellationToken ct)
    {
        var argv = _prefix.Concat([exe]).Concat(args).ToList();
        var psi = new ProcessStartInfo
        {
            FileName = Find(argv[0]) ?? argv[0],
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };
        foreach (var a in argv.Skip(1)) psi.ArgumentList.Add(a);
        // wireguard-go keeps the caller's stdout/stderr open in its daemon when LOG_LEVEL is set,
        // which would make this call wait for the daemon to exit.
        psi.Environment.Remove("LOG_LEVEL");
        psi.Environment.Remove("WG_PROCESS_FOREGROUND");
        var commandLine = string.Join(' ', argv.Select(Quote));

        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException("Process.Start returned null.");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return new CommandResult(commandLine, 127, "", $"could not start {argv[0]}: {e.Message}");
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            try
            {
                if (stdin is not null) await process.StandardInput.WriteAsync(stdin).ConfigureAwait(false);
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The tool exited without reading stdin; its exit code tells what happened.
            }

            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(_timeout);
            try
            {
                await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                ct.ThrowIfCancellationRequested();
                return new CommandResult(commandLine, 124, "", $"timed out after {_timeout.TotalSeconds:0} s");
            }
            return new CommandResult(commandLine, process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        }
    }

    public async Task<string?> ReadFileAsync(string path, CancellationToken ct)
    {
        if (_prefix.Count == 0)
        {
            try { return await File.ReadAllTextAsync(path, ct).ConfigureAwait(false); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        }
        var result = await RunAsync("cat", [path], null, ct).ConfigureAwait(false);
        return result.Succeeded ? result.Stdout : null;
    }

    public async Task WriteFileAsync(string path, string content, CancellationToken ct)
    {
        if (_prefix.Count == 0)
        {
            await File.WriteAllTextAsync(path, content, ct).ConfigureAwait(false);
            return;
        }
        var result = await RunAsync("tee", [path], content, ct).ConfigureAwait(false);
        if (!result.Succeeded) throw new IOException($"writing {path} failed: {result.Stderr.Trim()}");
    }

    internal static string Quote(string s) =>
        s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:@+,".Contains(c))
            ? s
            : "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}

internal static class CommandResultExtensions
{
    /// <summary>Throws with the command line and stderr (never stdout, which may hold a dump with the private key).</summary>
    public static CommandResult OrThrow(this CommandResult result, string? what = null)
    {
        if (result.Succeeded) return result;
        var message = new StringBuilder(what ?? result.CommandLine)
            .Append(" failed (exit ").Append(result.ExitCode).Append(')');
        var stderr = result.Stderr.Trim();
        if (stderr.Length > 0) message.Append(": ").Append(stderr.Length > 400 ? stderr[..400] + "…" : stderr);
        throw new WireGuardCommandException(message.ToString());
    }
}
