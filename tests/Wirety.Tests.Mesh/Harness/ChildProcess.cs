using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Wirety.Testing;

namespace Wirety.Tests.Mesh.Harness;

/// <summary>
/// A long-running child (the server, an agent) whose stdout and stderr go line by line into a
/// <see cref="LogBuffer"/>. Its pid and start time are recorded in the run directory, so a later run
/// can end it if this test process dies without cleaning up.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private const int SIGTERM = 15;
    private readonly Process _process;

    private ChildProcess(Process process, LogBuffer log)
    {
        _process = process;
        Log = log;
    }

    public LogBuffer Log { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>The dotnet host that runs this test, so children use the same runtime.</summary>
    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : ProcessRunner.FindExecutable("dotnet") ?? "dotnet";

    public static ChildProcess Start(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment, LogBuffer log, RunDirectory run)
    {
        var psi = new ProcessStartInfo(ProcessRunner.FindExecutable(file) ?? file)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = "/",
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (key, value) in environment) psi.Environment[key] = value;
        // The test host's own settings must not steer the children.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || k.StartsWith("PG", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(key);

        var process = Process.Start(psi) ?? throw new MeshSetupException($"could not start {file}");
        run.RecordProcess(log.Name, process.Id);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) log.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) log.Add(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        log.Add($"[test] started pid {process.Id}: {psi.FileName} {string.Join(' ', psi.ArgumentList)}");
        return new ChildProcess(process, log);
    }

    /// <summary>SIGTERM, and SIGKILL if it is still running after <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process.HasExited) return;
        _ = Native.kill(_process.Id, SIGTERM);
        using var cts = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
        }
    }

    /// <summary>SIGKILL: the process dies at once, as in a crash.</summary>
    public async Task KillAsync()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: false);
        }
        catch (InvalidOperationException) { } // already gone
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(5));
        _process.Dispose();
    }

    private static class Native
    {
        [DllImport("libc", SetLastError = true)]
        internal static extern int kill(int pid, int sig);
    }
}
