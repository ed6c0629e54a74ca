using System.Diagnostics;
using Wirety.Testing;

namespace Wirety.Tests.Mesh.Harness;

/// <summary>
/// The whole end-to-end environment, shared by the test class: PostgreSQL (the harness's throwaway
/// cluster), the real server binary on the bridge address and on loopback, and the underlay of four
/// namespaces (jump 198.18.0.2, dyn-a .3, dyn-b .4, and "stolen" .5, where a copy of dyn-a's state
/// directory runs). Agents are enrolled by the test itself and registered here for cleanup.
/// Cleanup happens in <see cref="DisposeAsync"/> and, for a run that crashed before it could clean up,
/// at the start of the next run (<see cref="RunDirectory.ReapStaleAsync"/>). Runs on one machine are
/// serialised by a lock file, since 198.18.0.1 can sit on one bridge only.
/// </summary>
public sealed class MeshFixture : IAsyncLifetime
{
    private static readonly TimeSpan LockTimeout = TimeSpan.FromMinutes(4);
    private readonly List<AgentProcess> _agents = [];
    private FileStream? _machineLock;
    private RunDirectory? _run;
    private Underlay? _underlay;
    private ServerProcess? _server;

    /// <summary>Why the test cannot run on this machine (missing tools, not root), or null.</summary>
    public string? PrerequisiteProblem { get; private set; }
    public List<string> Reaped { get; } = [];
    public List<string> SetupNotes { get; } = [];

    public Underlay Underlay => _underlay ?? throw new InvalidOperationException("not set up");
    public ServerProcess Server => _server ?? throw new InvalidOperationException("not set up");
    public IReadOnlyList<AgentProcess> Agents => _agents;

    public async Task InitializeAsync()
    {
        PrerequisiteProblem = Prerequisites.Problem();
        if (PrerequisiteProblem is not null) return; // the test fails with this message

        var clock = Stopwatch.StartNew();
        try
        {
            _machineLock = await AcquireMachineLockAsync();
            Reaped.AddRange(await RunDirectory.ReapStaleAsync());
            _run = RunDirectory.Create();
            _underlay = await Underlay.CreateAsync(_run,
                [("jump", 'j', "198.18.0.2"), ("dyn-a", 'a', "198.18.0.3"), ("dyn-b", 'b', "198.18.0.4"), ("stolen", 's', "198.18.0.5")]);
            SetupNotes.Add($"underlay: bridge {_underlay.Bridge} {Underlay.BridgeAddress}/24; " +
                           string.Join("; ", _underlay.Hosts.Select(h => $"{h.Namespace} {h.UnderlayAddress} wg={h.WgInterface}")));

            var cluster = await PostgresCluster.SharedAsync();
            var db = await cluster.CreateDatabaseAsync($"wirety_e2e_{_run.Suffix}");
            _server = ServerProcess.Create(_run, db);
            var started = await _server.StartAsync();
            SetupNotes.Add($"server ready in {started.TotalSeconds:0.0} s on {_server.AgentUrl} (agents) and {_server.AdminUrl} (admin); database on {cluster}");
            SetupNotes.Add($"environment set up in {clock.Elapsed.TotalSeconds:0.0} s");
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public AgentProcess NewAgent(MeshHost host, string? stateDir = null)
    {
        var agent = new AgentProcess(host, stateDir ?? Path.Combine(_run!.SubDirectory("agents"), host.Role), _run!);
        _agents.Add(agent);
        return agent;
    }

    /// <summary>
    /// <c>cp -a</c> of an agent's state directory to a new directory named after <paramref name="role"/>,
    /// modes kept: what a thief takes off a machine. <c>run.lock</c> comes along as a plain file; the
    /// lock itself (flock) belongs to the original directory's file, so a run on the copy is not refused.
    /// </summary>
    public async Task<string> CopyStateDirectoryAsync(AgentProcess from, string role)
    {
        var copy = Path.Combine(_run!.SubDirectory("agents"), role);
        await Sh.MustAsync("cp", "-a", from.StateDir, copy);
        return copy;
    }

    /// <summary>The logs of every child process, for the test output.</summary>
    public IEnumerable<LogBuffer> Logs() => (_server is null ? [] : new[] { _server.Log }).Concat(_agents.Select(a => a.Log));

    public async Task DisposeAsync()
    {
        // Agents first (SIGTERM; they leave the interfaces up), then the server, then the namespaces
        // with whatever still runs inside (wireguard-go), the links and the bridge.
        foreach (var agent in _agents) await Quietly(() => agent.DisposeAsync().AsTask());
        if (_server is not null) await Quietly(() => _server.DisposeAsync().AsTask());
        if (_underlay is not null) await Quietly(() => _underlay.DisposeAsync().AsTask());
        _run?.Dispose();
        _machineLock?.Dispose();
        _agents.Clear();
        (_server, _underlay, _run, _machineLock) = (null, null, null, null);
    }

    private static async Task Quietly(Func<Task> cleanup)
    {
        try { await cleanup(); }
        catch (Exception e) { Console.Error.WriteLine($"mesh test cleanup: {e.Message}"); } // keep cleaning up the rest
    }

    /// <summary>An exclusive lock (flock) on a file in the temp dir; released by the kernel if this process dies.</summary>
    private static async Task<FileStream> AcquireMachineLockAsync()
    {
        var path = Path.Combine(Path.GetTempPath(), "wirety-e2e.lock");
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (clock.Elapsed < LockTimeout)
            {
                await Task.Delay(500);
            }
            catch (IOException e)
            {
                throw new MeshSetupException($"another run of the mesh test held {path} for {LockTimeout.TotalMinutes:0} min: {e.Message}");
            }
        }
    }
}
