using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Wirety.Bench;

/// <summary>The real server binary on a free loopback port, as an operator would run it.</summary>
public sealed class ServerProcess : IAsyncDisposable
{
    public const string AdminToken = "wirety_bench-admin-token-0123456789abcdefghijklmnop";
    private readonly Process _process;
    private readonly string _dataDir;
    public Uri BaseAddress { get; }

    private ServerProcess(Process process, Uri baseAddress, string dataDir)
    {
        _process = process;
        BaseAddress = baseAddress;
        _dataDir = dataDir;
    }

    public static async Task<ServerProcess> StartAsync(string connectionString, IReadOnlyDictionary<string, string>? environment = null)
    {
        var port = FreePort();
        var dataDir = Directory.CreateTempSubdirectory("wirety-bench-").FullName;
        var dll = Path.Combine(AppContext.BaseDirectory, "wirety-server.dll");
        var info = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            Environment =
            {
                ["WIRETY_DB"] = connectionString, ["WIRETY_URLS"] = $"http://127.0.0.1:{port}",
                ["WIRETY_DATA_DIR"] = dataDir, ["WIRETY_ADMIN_TOKEN"] = AdminToken, ["WIRETY_LOG_FORMAT"] = "text",
                ["Logging__LogLevel__Default"] = "Warning", ["DOTNET_ENVIRONMENT"] = "Production",
                // A benchmark is one client pretending to be thousands: the per-address, per-session and per-token
                // rate limits would measure themselves instead of the server.
                ["Wirety__Limits__EnrollmentsPerWindow"] = "100000000", ["Wirety__Limits__HeartbeatsPerWindow"] = "100000000",
                ["Wirety__Limits__AdminRequestsPerWindow"] = "100000000",
            },
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine("[server] " + e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine("[server] " + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var server = new ServerProcess(process, new Uri($"http://127.0.0.1:{port}"), dataDir);
        using var probe = new HttpClient { BaseAddress = server.BaseAddress };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) throw new InvalidOperationException($"The server exited with code {process.ExitCode}.");
            try
            {
                if ((await probe.GetAsync("/readyz")).IsSuccessStatusCode) return server;
            }
            catch (HttpRequestException) { }
            await Task.Delay(200);
        }
        throw new TimeoutException("The server did not become ready within 60 s.");
    }

    /// <summary>The server process's resident set size now (VmRSS), in bytes.</summary>
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        return 0;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        try { Directory.Delete(_dataDir, true); } catch (IOException) { }
    }
}
