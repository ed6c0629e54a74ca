using System.Diagnostics;
using Wirety.Testing;

namespace Wirety.Tests.Cluster.Harness;

/// <summary>
/// One server instance on a PostgreSQL cluster of its own, so a test may stop and restart the database
/// (<see cref="Postgres"/>) without taking away the shared cluster other tests of the run use.
/// </summary>
public sealed class OutageFixture : IAsyncLifetime
{
    private ChildProcesses? _children;
    private string? _dataRoot;

    public PostgresCluster Postgres { get; private set; } = null!;
    public ServerNode A { get; private set; } = null!;
    public string ConnectionString { get; private set; } = "";
    public List<string> SetupNotes { get; } = [];

    public async Task InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        // Commits wait for their WAL write, as PostgreSQL's default does: an acknowledged write then survives the
        // postmaster's death (-m immediate). fsync stays off: the machine does not crash, so the page cache survives.
        Postgres = await PostgresCluster.StartNewAsync(new PostgresClusterOptions { Settings = new Dictionary<string, string> { ["synchronous_commit"] = "on" } });
        ConnectionString = await Postgres.CreateDatabaseAsync("wirety_outage");
        _children = ChildProcesses.Create();
        _dataRoot = Directory.CreateTempSubdirectory("wirety-outage-").FullName;
        A = ServerNode.Create("A", ConnectionString, ClusterFixture.AdminToken, Path.Combine(_dataRoot, "a"), _children);
        var started = await A.StartAsync();
        SetupNotes.Add($"private PostgreSQL on port {Postgres.Port}; A ready in {started.TotalSeconds:0.0} s on {A.BaseAddress} " +
                       $"({clock.Elapsed.TotalSeconds:0.0} s with the cluster)");
    }

    public HttpClient Admin() => A.Client(ClusterFixture.AdminToken);

    public async Task DisposeAsync()
    {
        if (A is not null) await A.DisposeAsync();
        _children?.Dispose();
        if (Postgres is not null) await Postgres.DisposeAsync();
        if (_dataRoot is not null)
            try { Directory.Delete(_dataRoot, true); } catch (IOException) { }
    }
}
