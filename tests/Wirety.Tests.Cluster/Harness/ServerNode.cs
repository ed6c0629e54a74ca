using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Wirety.Testing;

namespace Wirety.Tests.Cluster.Harness;

/// <summary>
/// One server instance: the real binary (<c>dotnet wirety-server.dll</c>) on a free loopback port, as an
/// operator runs it. Everything it prints is kept for evidence and failure messages.
/// </summary>
public sealed class ServerNode : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly Dictionary<string, string> _environment;
    private readonly List<string> _log = [];
    private readonly Lock _gate = new();
    private readonly ChildProcesses _children;
    private Process? _process;

    private ServerNode(string name, Uri baseAddress, Dictionary<string, string> environment, ChildProcesses children)
    {
        Name = name;
        BaseAddress = baseAddress;
        _environment = environment;
        _children = children;
    }

    public string Name { get; }
    public Uri BaseAddress { get; }
    public bool IsRunning => _process is { HasExited: false };

    /// <param name="settings">Extra environment for this node (e.g. <c>Wirety__Limits__*</c>), applied over the defaults.</param>
    public static ServerNode Create(string name, string connectionString, string adminToken, string dataDir, ChildProcesses children,
        IReadOnlyDictionary<string, string>? settings = null)
    {
        var port = FreePort();
        var node = new ServerNode(name, new Uri($"http://127.0.0.1:{port}"), new Dictionary<string, string>
        {
            ["WIRETY_DB"] = connectionString,
            ["WIRETY_URLS"] = $"http://127.0.0.1:{port}",
            ["WIRETY_DATA_DIR"] = dataDir,
            ["WIRETY_ADMIN_TOKEN"] = adminToken,
            ["WIRETY_LOG_FORMAT"] = "text",
            ["DOTNET_ENVIRONMENT"] = "Production",
            // Load from one address and one admin token is the test's method, not an attack: limits out of reach.
            ["Wirety__Limits__EnrollmentsPerWindow"] = "100000000", ["Wirety__Limits__HeartbeatsPerWindow"] = "100000000",
            ["Wirety__Limits__AdminRequestsPerWindow"] = "100000000",
        }, children);
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) node._environment[key] = value;
        return node;
    }

    /// <summary>Starts the process and waits until <c>/readyz</c> answers 200.</summary>
    public async Task<TimeSpan> StartAsync()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "wirety-server.dll");
        if (!File.Exists(dll)) throw new InvalidOperationException($"{dll} is missing: build the test project (it references Wirety.Server)");
        var psi = new ProcessStartInfo(DotnetHost)
        {
            UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8, StandardErrorEncoding = Encoding.UTF8, WorkingDirectory = "/",
        };
        psi.ArgumentList.Add(dll);
        // The test host's own settings must not steer the server.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || k.StartsWith("PG", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(key);
        foreach (var (key, value) in _environment) psi.Environment[key] = value;

        var clock = Stopwatch.StartNew();
        _process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the server");
        _children.Record(_process.Id, Name);
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) Add(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Add(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        _process.StandardInput.Close();
        Add($"[test] started pid {_process.Id} on {BaseAddress}");

        using var probe = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        while (clock.Elapsed < StartTimeout)
        {
            if (_process.HasExited) throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} during start\n{Tail()}");
            try
            {
                if ((await probe.GetAsync("/readyz")).IsSuccessStatusCode) return clock.Elapsed;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
            await Task.Delay(50);
        }
        throw new TimeoutException($"{Name} was not ready within {StartTimeout.TotalSeconds:0} s\n{Tail()}");
    }

    /// <summary>SIGKILL: the process dies at once, as in a crash; the kernel resets its connections.</summary>
    public async Task KillAsync()
    {
        if (_process is null || _process.HasExited) return;
        _process.Kill(entireProcessTree: false); // SIGKILL on Linux
        await _process.WaitForExitAsync();
        Add($"[test] killed (SIGKILL), exit code {_process.ExitCode}");
    }

    public HttpClient Client(string? bearer)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (bearer is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return client;
    }

    /// <summary>The agent WebSocket, authenticated by the session token in the Authorization header.</summary>
    public async Task<ClientWebSocket> ConnectAgentSocketAsync(string sessionToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + sessionToken);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await socket.ConnectAsync(new Uri($"ws://{BaseAddress.Authority}/api/v1/agent/ws"), timeout.Token);
        return socket;
    }

    /// <summary>The admin live channel (<c>/api/v1/ws</c>), authenticated by the admin token in the Authorization header.</summary>
    public async Task<ClientWebSocket> ConnectLiveChannelAsync(string adminToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + adminToken);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await socket.ConnectAsync(new Uri($"ws://{BaseAddress.Authority}/api/v1/ws"), timeout.Token);
        return socket;
    }

    /// <summary>A position in the log; <see cref="LinesSince"/> returns what came after it.</summary>
    public int Mark()
    {
        lock (_gate) return _log.Count;
    }

    public IReadOnlyList<string> LinesSince(int mark)
    {
        lock (_gate) return _log.Skip(mark).ToList();
    }

    public string Tail(int count = 60)
    {
        lock (_gate) return $"---- last {Math.Min(count, _log.Count)} lines of {Name} ----\n" + string.Join('\n', _log.TakeLast(count));
    }

    private void Add(string line)
    {
        lock (_gate) _log.Add(line);
    }

    private static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : ProcessRunner.FindExecutable("dotnet") ?? "dotnet";

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is null) return;
        await ChildProcesses.StopAsync(_process, TimeSpan.FromSeconds(5));
        _process.Dispose();
    }
}
