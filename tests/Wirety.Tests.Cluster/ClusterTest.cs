using Wirety.Tests.Cluster.Harness;
using Xunit.Abstractions;

namespace Wirety.Tests.Cluster;

/// <summary>
/// Base of the cluster tests: on failure-free runs the servers logged no error while the test ran;
/// the timings each test measures go to the test output.
/// </summary>
public abstract class ClusterTest(ClusterFixture cluster, ITestOutputHelper output) : IAsyncLifetime
{
    private int _markA, _markB;
    protected ClusterFixture Cluster { get; } = cluster;
    protected ServerNode A => Cluster.A;
    protected ServerNode B => Cluster.B;
    protected HttpClient AdminA { get; private set; } = null!;
    protected HttpClient AdminB { get; private set; } = null!;

    public Task InitializeAsync()
    {
        (_markA, _markB) = (A.Mark(), B.Mark());
        AdminA = Cluster.Admin(A);
        AdminB = Cluster.Admin(B);
        foreach (var note in Cluster.SetupNotes) output.WriteLine(note);
        return Task.CompletedTask;
    }

    protected void Report(string line) => output.WriteLine(line);

    /// <summary>Waits until <paramref name="node"/> logged that the agent's socket is registered (pushes go to registered sockets only).</summary>
    protected static Task WaitForSocketAsync(ServerNode node, Guid peerId, int mark) =>
        Eventually.HoldsAsync(() => Task.FromResult(node.LinesSince(mark).Any(l => l.Contains($"Agent for peer {peerId} connected", StringComparison.Ordinal))),
            TimeSpan.FromSeconds(10), $"{node.Name} registered the socket of peer {peerId}");

    public Task DisposeAsync()
    {
        AdminA.Dispose();
        AdminB.Dispose();
        foreach (var (node, mark) in new[] { (A, _markA), (B, _markB) })
        {
            var lines = node.LinesSince(mark);
            output.WriteLine($"---- {node.Name} during this test ({lines.Count} lines) ----");
            foreach (var line in lines.TakeLast(40)) output.WriteLine(line);
            var errors = lines.Where(l => l.StartsWith("fail:", StringComparison.Ordinal) || l.StartsWith("crit:", StringComparison.Ordinal)
                                          || l.Contains("unhandled exception", StringComparison.OrdinalIgnoreCase)).ToList();
            Assert.True(errors.Count == 0, $"{node.Name} logged errors:\n" + string.Join('\n', errors));
        }
        return Task.CompletedTask;
    }
}
