using System.Diagnostics;
using Npgsql;
using Wirety.Testing;

namespace Wirety.Tests.Cluster.Harness;

/// <summary>
/// Two server instances, A and B, on one fresh database of the run's throwaway PostgreSQL cluster,
/// with the same bootstrap admin token. They are started at the same moment, so the first start of
/// two instances on an empty database (schema, Wolverine node registration, admin bootstrap) is part
/// of what every run exercises.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const string AdminToken = "wirety_cluster-admin-token-0123456789abcdefghijklmnop";
    private ChildProcesses? _children;
    private string? _dataRoot;

    public ServerNode A { get; private set; } = null!;
    public ServerNode B { get; private set; } = null!;
    public string ConnectionString { get; private set; } = "";
    public List<string> SetupNotes { get; } = [];

    public async Task InitializeAsync()
    {
        var cluster = await PostgresCluster.SharedAsync();
        ConnectionString = await cluster.CreateDatabaseAsync("wirety_cluster_" + Guid.NewGuid().ToString("N")[..8]);
        _children = ChildProcesses.Create();
        _dataRoot = Directory.CreateTempSubdirectory("wirety-cluster-").FullName;
        A = ServerNode.Create("A", ConnectionString, AdminToken, Path.Combine(_dataRoot, "a"), _children);
        B = ServerNode.Create("B", ConnectionString, AdminToken, Path.Combine(_dataRoot, "b"), _children);

        var clock = Stopwatch.StartNew();
        var started = await Task.WhenAll(A.StartAsync(), B.StartAsync());
        SetupNotes.Add($"A ready in {started[0].TotalSeconds:0.0} s on {A.BaseAddress}, B ready in {started[1].TotalSeconds:0.0} s on {B.BaseAddress} " +
                       $"(started together on an empty database; both ready after {clock.Elapsed.TotalSeconds:0.0} s)");
    }

    public HttpClient Admin(ServerNode node) => node.Client(AdminToken);

    /// <summary>Rows of a query, each as text, over plain SQL.</summary>
    public async Task<List<string>> QueryAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
            rows.Add(string.Join(' ', Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "null" : reader.GetValue(i).ToString())));
        return rows;
    }

    public async Task DisposeAsync()
    {
        if (A is not null) await A.DisposeAsync();
        if (B is not null) await B.DisposeAsync();
        _children?.Dispose();
        if (_dataRoot is not null)
            try { Directory.Delete(_dataRoot, true); } catch (IOException) { }
    }
}
