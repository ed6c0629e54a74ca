using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Wirety.Tests.Mesh.Harness;

/// <summary>
/// The real server binary (<c>dotnet wirety-server.dll</c>) as an operator runs it: listening on the
/// bridge address for the agents and on loopback for the test's admin calls. It can be killed and
/// started again with the same database, ports and data directory.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    public const string AdminToken = "wirety_e2e-admin-token-0123456789abcdefghijklmnop";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly Dictionary<string, string> _environment;
    private readonly RunDirectory _run;
    private ChildProcess? _process;

    private ServerProcess(RunDirectory run, string connectionString, string dataDir, int agentPort, int adminPort)
    {
        _run = run;
        AgentUrl = new Uri($"http://{Underlay.BridgeAddress}:{agentPort}");
        AdminUrl = new Uri($"http://127.0.0.1:{adminPort}");
        _environment = new Dictionary<string, string>
        {
            ["WIRETY_DB"] = connectionString,
            ["WIRETY_URLS"] = $"{AgentUrl.ToString().TrimEnd('/')};{AdminUrl.ToString().TrimEnd('/')}",
            ["WIRETY_DATA_DIR"] = dataDir,
            ["WIRETY_ADMIN_TOKEN"] = AdminToken,
            ["WIRETY_LOG_FORMAT"] = "text",
            ["DOTNET_ENVIRONMENT"] = "Production",
        };
    }

    /// <summary>Where agents reach the server: the bridge address, from inside the namespaces.</summary>
    public Uri AgentUrl { get; }
    /// <summary>Where the test drives the admin API.</summary>
    public Uri AdminUrl { get; }
    public LogBuffer Log { get; } = new("server");
    public int Starts { get; private set; }

    public static ServerProcess Create(RunDirectory run, string connectionString) =>
        new(run, connectionString, run.SubDirectory("server"), FreePort(IPAddress.Parse(Underlay.BridgeAddress)), FreePort(IPAddress.Loopback));

    /// <summary>Starts the server and waits until <c>/readyz</c> says it is up (database reachable).</summary>
    public async Task<TimeSpan> StartAsync()
    {
        if (_process is { HasExited: false }) throw new InvalidOperationException("the server is already running");
        var dll = Path.Combine(AppContext.BaseDirectory, "wirety-server.dll");
        if (!File.Exists(dll)) throw new MeshSetupException($"{dll} is missing: build the test project (it references Wirety.Server)");
        Starts++;
        Log.Add($"[test] ---- server start #{Starts} ----");
        var clock = Stopwatch.StartNew();
        _process = ChildProcess.Start(ChildProcess.DotnetHost, [dll], _environment, Log, _run);

        using var probe = new HttpClient { BaseAddress = AdminUrl, Timeout = TimeSpan.FromSeconds(5) };
        while (clock.Elapsed < StartTimeout)
        {
            if (_process.HasExited)
                throw new MeshSetupException($"the server exited with code {_process.ExitCode} during start\n{Log.Tail(60)}");
            try
            {
                if ((await probe.GetAsync("/readyz")).IsSuccessStatusCode) return clock.Elapsed;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
            await Task.Delay(100);
        }
        throw new MeshSetupException($"the server did not become ready within {StartTimeout.TotalSeconds:0} s\n{Log.Tail(60)}");
    }

    /// <summary>SIGKILL, like a crash: no graceful shutdown, sockets reset by the kernel.</summary>
    public async Task KillAsync()
    {
        if (_process is null) return;
        await _process.KillAsync();
        Log.Add($"[test] ---- server killed (exit {_process.ExitCode}) ----");
    }

    public bool IsRunning => _process is { HasExited: false };

    private static int FreePort(IPAddress address)
    {
        using var listener = new TcpListener(address, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null) await _process.DisposeAsync();
    }
}
