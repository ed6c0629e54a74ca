using System.Diagnostics;
using System.Text;

namespace Wirety.Testing;

/// <summary>Outcome of one external command, with everything needed to explain a failure.</summary>
public sealed record ProcessResult(string CommandLine, int ExitCode, string Stdout, string Stderr)
{
    public string Describe()
    {
        var sb = new StringBuilder().Append("command: ").Append(CommandLine).Append('\n');
        if (Stderr.Length > 0) sb.Append("stderr:\n").Append(Stderr.TrimEnd()).Append('\n');
        if (Stdout.Length > 0) sb.Append("stdout:\n").Append(Stdout.TrimEnd()).Append('\n');
        return sb.ToString();
    }
}

/// <summary>Runs a command (optionally as another user via runuser) and captures its output.</summary>
public static class ProcessRunner
{
    static readonly string[] s_extraDirs = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

    public static string? FindExecutable(string name)
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        return path.Concat(s_extraDirs).Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
    }

    /// <summary>
    /// Runs <paramref name="exe"/> with <paramref name="args"/> (no shell), as <paramref name="asUser"/>
    /// when given (requires root). Never throws for a non-zero exit; a timeout kills the
    /// process tree and returns exit code -1.
    /// </summary>
    public static async Task<ProcessResult> RunAsync(string exe, IReadOnlyList<string> args, string? asUser, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // The caller's cwd may be unreadable for the postgres user (e.g. under /root).
            WorkingDirectory = "/",
        };
        if (asUser is null)
        {
            psi.FileName = exe;
        }
        else
        {
            psi.FileName = FindExecutable("runuser") ?? "runuser";
            foreach (var a in new[] { "-u", asUser, "--", exe }) psi.ArgumentList.Add(a);
        }
        foreach (var a in args) psi.ArgumentList.Add(a);
        // PGHOST, PGPORT, PGDATA, PGOPTIONS ... of the caller must not steer our tools.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("PG", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(key);

        var commandLine = string.Join(' ', new[] { psi.FileName }.Concat(psi.ArgumentList).Select(Quote));
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException("Process.Start returned null");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return new ProcessResult(commandLine, -1, "", $"could not start: {e.Message}");
        }

        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                return new ProcessResult(commandLine, -1, await stdout.ConfigureAwait(false),
                    $"timed out after {timeout.TotalSeconds:0}s\n" + await stderr.ConfigureAwait(false));
            }
            return new ProcessResult(commandLine, process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        }
    }

    static string Quote(string s) =>
        s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:@+,".Contains(c)) ? s : "'" + s.Replace("'", "'\\''") + "'";
}
