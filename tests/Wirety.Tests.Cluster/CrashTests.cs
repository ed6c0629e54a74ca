using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Wirety.Tests.Cluster.Harness;
using Xunit.Abstractions;

namespace Wirety.Tests.Cluster;

/// <summary>An instance dies (SIGKILL) in the middle of writes: the other one has every write the dead one acknowledged.</summary>
public sealed class CrashTests(ClusterFixture cluster, ITestOutputHelper output) : ClusterTest(cluster, output), IClassFixture<ClusterFixture>
{
    private const int Writers = 4, AcknowledgedBeforeKill = 80;

    [Fact]
    public async Task killing_an_instance_loses_no_write_it_acknowledged()
    {
        var networks = new List<Guid>();
        for (var i = 0; i < Writers; i++) networks.Add(await AdminA.CreateNetworkAsync($"crash-{i}", $"10.70.{i}.0/24"));

        var peers = new ConcurrentBag<(Guid Network, Guid Peer)>();
        var tokens = new ConcurrentBag<Guid>();
        var failures = new ConcurrentBag<string>();
        var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();

        // Writers against A until it dies: peers into their own network, and API tokens. Only 2xx answers count.
        async Task WriteAsync(Func<HttpClient, int, Task> write)
        {
            using var client = Cluster.Admin(A);
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                try
                {
                    await write(client, n);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                {
                    failures.Add(e.GetType().Name);
                    return; // A is gone
                }
                if (peers.Count + tokens.Count >= AcknowledgedBeforeKill) enough.TrySetResult();
            }
        }

        var writers = networks.Select(net => WriteAsync(async (client, n) =>
            {
                using var response = await client.PostAsJsonAsync($"/api/v1/networks/{net}/peers", new { name = $"p{n}", kind = "dynamic" });
                if (response.StatusCode == HttpStatusCode.Created)
                    peers.Add((net, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid()));
                else Assert.Fail($"adding a peer: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }))
            .Append(WriteAsync(async (client, n) =>
            {
                using var response = await client.PostAsJsonAsync("/api/v1/tokens", new { name = $"t{n}", role = "admin" });
                if (response.StatusCode == HttpStatusCode.Created)
                    tokens.Add(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid());
                else Assert.Fail($"issuing a token: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }))
            .ToList();

        await enough.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var clock = Stopwatch.StartNew();
        await A.KillAsync(); // while the writers are mid-request
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(60));
        stop.Cancel();
        Report($"A acknowledged {peers.Count} peers and {tokens.Count} tokens; {failures.Count} requests were cut off by the kill ({string.Join(", ", failures.Distinct())})");

        // Everything A acknowledged is there, read through B.
        foreach (var net in networks)
        {
            var listed = (await AdminB.GetFromJsonAsync<List<IdView>>($"/api/v1/networks/{net}/peers"))!.Select(p => p.Id).ToHashSet();
            var missing = peers.Where(p => p.Network == net && !listed.Contains(p.Peer)).ToList();
            Assert.True(missing.Count == 0, $"B does not have {missing.Count} peer(s) A acknowledged in network {net}");
        }
        var listedTokens = (await AdminB.GetFromJsonAsync<List<IdView>>("/api/v1/tokens"))!.Select(t => t.Id).ToHashSet();
        Assert.All(tokens, t => Assert.Contains(t, listedTokens));

        // B carries on alone: ready, and it takes writes.
        Assert.Equal(HttpStatusCode.OK, await AdminB.StatusAsync("/readyz"));
        await AdminB.AddPeerAsync(networks[0], new { name = "after-crash", kind = "dynamic" });
        Report($"verified through B {clock.Elapsed.TotalMilliseconds:0} ms after the kill");

        // Wolverine notices the dead node and B, the one left, leads and runs the durability agent.
        var (_, _) = await Eventually.HoldsAsync(async () =>
            {
                var nodes = await Cluster.QueryAsync("select id from wirety.wolverine_nodes");
                var holders = await Cluster.QueryAsync(
                    "select node_id from wirety.wolverine_node_assignments where id like 'wolverine://leader%' or id like 'wolverinedb://%'");
                return nodes.Count == 1 && holders.Count == 2 && holders.All(h => h == nodes[0]);
            }, TimeSpan.FromSeconds(120), "B alone is registered, leads and runs the durability agent");
        Report($"B took over Wolverine leadership and the durability agent {clock.Elapsed.TotalSeconds:0.0} s after the kill");
    }

    private sealed record IdView(Guid Id);
}
