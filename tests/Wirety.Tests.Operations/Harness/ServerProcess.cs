using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Wirety.Tests.Operations.Harness;

/// <summary>
/// The real server binary (<c>dotnet wirety-server.dll</c>) started as an operator or systemd would: standard
/// output and error redirected (not a terminal), only the given WIRETY_* settings. Everything it prints is kept.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly List<string> _log = [];
    private readonly Process _process;

    private ServerProcess(Process process) => _process = process;

    public Process Process => _process;

    public static ServerProcess Start(string workDir, IReadOnlyDictionary<string, string> env)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8, StandardErrorEncoding = Encoding.UTF8, WorkingDirectory = workDir,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "wirety-server.dll"));
        foreach (var k in psi.Environment.Keys.Where(k => k.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || k.StartsWith("WIRETY_", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(k);
        psi.Environment["WIRETY_DATA_DIR"] = Path.Combine(workDir, "data");
        psi.Environment["WIRETY_LOG_FORMAT"] = "text";
        psi.Environment["WIRETY_WEB_ROOT"] = Path.Combine(workDir, "no-ui");
        foreach (var (k, v) in env) psi.Environment[k] = v;
        var server = new ServerProcess(Process.Start(psi)!);
        server._process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (server._log) server._log.Add(e.Data); };
        server._process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (server._log) server._log.Add(e.Data); };
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        server._process.StandardInput.Close();
        return server;
    }

    public string Log()
    {
        lock (_log) return string.Join('\n', _log);
    }

    /// <summary>Polls <c>/readyz</c> through <paramref name="client"/> until it answers 200 (false if the process exits first).</summary>
    public async Task<bool> ReadyAsync(HttpClient client)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(90))
        {
            if (_process.HasExited) return false;
            try
            {
                if ((await client.GetAsync("/readyz")).IsSuccessStatusCode) return true;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
            await Task.Delay(100);
        }
        return false;
    }

    /// <summary>Waits for the process to exit by itself (a refused start) and returns its exit code.</summary>
    public async Task<int> ExitCodeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync(timeout.Token);
        await _process.WaitForExitAsync(); // drains the redirected output
        return _process.ExitCode;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
