using Wirety.Testing;

namespace Wirety.Tests.Mesh.Harness;

/// <summary>
/// A real <c>wirety-agent</c> inside a host's namespace: <c>enroll</c> once, then <c>run</c> as a child
/// process whose log is kept for evidence and failure messages.
/// </summary>
public sealed class AgentProcess(MeshHost host, string stateDir, RunDirectory run) : IAsyncDisposable
{
    private ChildProcess? _process;

    public MeshHost Host => host;
    /// <summary>Its state directory: identity.json (private key, session token), config.json, state.json, run.lock.</summary>
    public string StateDir => stateDir;
    public LogBuffer Log { get; } = new($"agent {host.Role}");
    public bool IsRunning => _process is { HasExited: false };
    public int? ExitCode => _process?.ExitCode;

    private static string Dll => Path.Combine(AppContext.BaseDirectory, "wirety-agent.dll");

    /// <summary><c>ip netns exec NS dotnet wirety-agent.dll enroll --server URL --token T --state-dir DIR --hostname ROLE --insecure-http</c> (the test server is plain HTTP on 198.18.0.1).</summary>
    public async Task EnrollAsync(Uri server, string token)
    {
        if (!File.Exists(Dll)) throw new MeshSetupException($"{Dll} is missing: build the test project (it references Wirety.Agent)");
        var result = await ProcessRunner.RunAsync(ProcessRunner.FindExecutable("ip") ?? "ip",
            ["netns", "exec", host.Namespace, ChildProcess.DotnetHost, Dll, "enroll",
             "--server", server.ToString(), "--token", token, "--state-dir", stateDir, "--hostname", host.Role, "--insecure-http"],
            null, TimeSpan.FromSeconds(60));
        // The token is spent now; still, keep it out of the log.
        Log.Add($"[test] enroll (exit {result.ExitCode})\n{result.Describe().Replace(token, "[enrollment token]", StringComparison.Ordinal)}");
        if (result.ExitCode != 0) throw new MeshSetupException($"enrolling the {host.Role} agent failed\n{Log.Tail(20)}");
    }

    /// <summary>
    /// <c>run --userspace</c> with a verbose log (it names the reason of every config fetch, e.g. a push).
    /// The config poll is deliberately long, so every config change the test observes after start
    /// must have come through a WebSocket push (or the re-fetch after a reconnect).
    /// </summary>
    public void Start(TimeSpan heartbeat, TimeSpan poll)
    {
        _process = ChildProcess.Start("ip",
            ["netns", "exec", host.Namespace, ChildProcess.DotnetHost, Dll, "run", "--state-dir", stateDir, "--interface", host.WgInterface,
             "--userspace", "--heartbeat-interval", $"{heartbeat.TotalSeconds:0}s", "--poll-interval", $"{poll.TotalSeconds:0}s", "--verbose", "--insecure-http"],
            new Dictionary<string, string>(), Log, run);
    }

    /// <summary>SIGTERM (SIGKILL after 10 s): the machine's owner stops the agent; it leaves the interface (and its filter) as they are.</summary>
    public async Task StopAsync()
    {
        if (_process is not null) await _process.StopAsync(TimeSpan.FromSeconds(10));
        Log.Add($"[test] agent stopped (exit {ExitCode})");
    }

    /// <summary>SIGKILL the agent (the machine's owner pulls the plug); its interface stays until the namespace goes.</summary>
    public async Task KillAsync()
    {
        if (_process is not null) await _process.KillAsync();
        Log.Add($"[test] agent killed (exit {ExitCode})");
    }

    /// <summary>When the agent last had a heartbeat acknowledged, from its own state.json (null: none yet).</summary>
    public DateTimeOffset? LastHeartbeatAt()
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(stateDir, "state.json")));
            return doc.RootElement.TryGetProperty("lastHeartbeatAt", out var at) && at.ValueKind == System.Text.Json.JsonValueKind.String
                ? at.GetDateTimeOffset() : null;
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException) // replaced by rename: never half-written, but maybe not there yet
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // SIGTERM: the agent exits 0 and leaves the interface up (fail-static); the underlay removes it.
        if (_process is not null) await _process.DisposeAsync();
    }
}
