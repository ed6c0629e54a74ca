using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Npgsql;
using Wirety.Testing;
using Wirety.Tests.Cluster.Harness;
using Xunit.Abstractions;

namespace Wirety.Tests.Cluster;

/// <summary>
/// WebSockets and credentials across instances: a token revoked through A closes its live channel on B, and
/// a change notice that did not come from a server (a forged NOTIFY) moves neither instance.
/// </summary>
public sealed class SocketTests(ClusterFixture cluster, ITestOutputHelper output) : ClusterTest(cluster, output), IClassFixture<ClusterFixture>
{
    private static readonly TimeSpan Propagation = TimeSpan.FromSeconds(12);

    [Fact]
    public async Task revoking_an_api_token_through_A_closes_its_live_channel_on_B()
    {
        var issued = await AdminA.PostAsJsonAsync("/api/v1/tokens", new { name = "browser", role = "viewer" }).ExpectAsync(HttpStatusCode.Created, "issue token");
        var id = issued.GetProperty("id").GetGuid();
        using var live = await B.ConnectLiveChannelAsync(issued.GetProperty("token").GetString()!);
        Assert.Equal("ready", (await live.ReceiveAsync(TimeSpan.FromSeconds(10))).Message.GetProperty("type").GetString());
        using var other = await B.ConnectLiveChannelAsync(ClusterFixture.AdminToken);
        Assert.Equal("ready", (await other.ReceiveAsync(TimeSpan.FromSeconds(10))).Message.GetProperty("type").GetString());

        var clock = Stopwatch.StartNew();
        await AdminA.DeleteAsync($"/api/v1/tokens/{id}").ExpectAsync(HttpStatusCode.NoContent, "revoke through A");
        var answered = clock.Elapsed;
        while ((await live.ReceiveAsync(Propagation)).Type != WebSocketMessageType.Close) { }
        var closed = clock.Elapsed;
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, live.CloseStatus);
        Assert.Equal("token revoked", live.CloseStatusDescription);

        // The admin token's channel on B is untouched and still hears A's commits.
        var net = await AdminA.CreateNetworkAsync("after-revoke", "10.64.0.0/24");
        while (true)
        {
            var (type, message) = await other.ReceiveAsync(Propagation);
            Assert.True(type == WebSocketMessageType.Text, $"B closed the admin token's channel ({other.CloseStatus})");
            if (message.GetProperty("type").GetString() == "network-changed" && message.GetProperty("networkId").GetGuid() == net) break;
        }
        Report($"revocation answered by A after {answered.TotalMilliseconds:0} ms; B closed the token's live channel " +
               $"{(closed - answered).TotalMilliseconds:0} ms after A's answer");
    }

    [Fact]
    public async Task a_forged_notify_moves_neither_instance_while_a_genuine_change_through_A_still_reaches_B()
    {
        var net = await AdminA.CreateNetworkAsync("forged", "10.65.0.0/24");
        var x = await AdminA.AddAndEnrollAsync(A, net, "x");
        var markB = B.Mark();
        using var socket = await B.ConnectAgentSocketAsync(x.SessionToken);
        await WaitForSocketAsync(B, x.PeerId, markB);
        using var live = await B.ConnectLiveChannelAsync(ClusterFixture.AdminToken);
        Assert.Equal("ready", (await live.ReceiveAsync(TimeSpan.FromSeconds(10))).Message.GetProperty("type").GetString());

        // Any role that can connect can NOTIFY: "x's network is deleted" (would close x's socket on B and drop
        // caches) and a fake incident for B's admins, in the notices' own JSON, without the servers' MAC.
        var marker = Guid.NewGuid();
        var markA = A.Mark();
        markB = B.Mark();
        var web = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        await NotifyAsync(JsonSerializer.Serialize(new
        {
            origin = Guid.NewGuid(),
            network = new { networkId = net, version = 999, removedPeers = new[] { x.PeerId }, enrollments = Array.Empty<object>(), networkDeleted = true },
        }, web));
        await NotifyAsync(JsonSerializer.Serialize(new
        {
            origin = Guid.NewGuid(), commit = Guid.NewGuid(), part = 0,
            live = new[] { new { type = "incident-detected", incidentId = marker, networkId = net } },
        }, web));
        await NotifyAsync(new string('A', 43) + "." + JsonSerializer.Serialize(new { origin = Guid.NewGuid(), revokedToken = Guid.NewGuid() }, web));

        // A genuine change through A after them (notices arrive in order): B pushes it to x, and closes nothing.
        // (An MTU change alters every peer's config, x's included.)
        await AdminA.PatchAsJsonAsync($"/api/v1/networks/{net}", new { mtu = 1380 }).ExpectAsync(HttpStatusCode.OK, "change the MTU through A");
        var version = (await A.AgentConfigAsync(x)).Body.GetProperty("version").GetString();
        while (true)
        {
            var (type, message) = await socket.ReceiveAsync(Propagation);
            Assert.True(type == WebSocketMessageType.Text, $"B closed x's socket ({socket.CloseStatus}: {socket.CloseStatusDescription})");
            if (message.GetProperty("version").GetString() == version) break;
        }
        var heard = new List<JsonElement>();
        while (true)
        {
            var (type, message) = await live.ReceiveAsync(Propagation);
            Assert.True(type == WebSocketMessageType.Text, "B closed the admin live channel");
            heard.Add(message);
            if (message.GetProperty("type").GetString() == "network-changed" && message.GetProperty("networkId").GetGuid() == net) break;
        }
        Assert.DoesNotContain(heard, m => m.TryGetProperty("incidentId", out var i) && i.GetGuid() == marker);
        Assert.Equal(HttpStatusCode.OK, (await B.AgentConfigAsync(x)).Status); // x's session was not dropped

        foreach (var (node, mark) in new[] { (A, markA), (B, markB) })
        {
            var lines = node.LinesSince(mark);
            Assert.Contains(lines, l => l.Contains("Dropped", StringComparison.Ordinal) && l.Contains("bad signature", StringComparison.Ordinal));
            Assert.DoesNotContain(lines, l => l.Contains(marker.ToString(), StringComparison.OrdinalIgnoreCase));
        }
    }

    private async Task NotifyAsync(string payload)
    {
        await using var connection = new NpgsqlConnection(Cluster.ConnectionString);
        await connection.OpenAsync();
        await using var notify = new NpgsqlCommand("select pg_notify('wirety_changes', @payload)", connection);
        notify.Parameters.AddWithValue("payload", payload);
        await notify.ExecuteNonQueryAsync();
    }
}

/// <summary>
/// Kestrel's connection limits are applied from <c>Wirety__Limits__*</c>: one real server process with room for two
/// upgraded connections, on a database of its own.
/// </summary>
public sealed class UpgradeLimitTests(UpgradeLimitTests.Fixture server, ITestOutputHelper output) : IClassFixture<UpgradeLimitTests.Fixture>
{
    [Fact]
    public async Task with_room_for_two_upgraded_connections_a_third_websocket_gets_a_503_and_plain_requests_still_work()
    {
        var node = server.Node;
        using var first = await node.ConnectLiveChannelAsync(Fixture.AdminToken);
        using var second = await node.ConnectLiveChannelAsync(Fixture.AdminToken);

        using var third = new ClientWebSocket();
        third.Options.SetRequestHeader("Authorization", "Bearer " + Fixture.AdminToken);
        third.Options.CollectHttpResponseDetails = true;
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
            await Assert.ThrowsAsync<WebSocketException>(() => third.ConnectAsync(new Uri($"ws://{node.BaseAddress.Authority}/api/v1/ws"), timeout.Token));
        output.WriteLine($"third upgrade answered {(int)third.HttpStatusCode}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, third.HttpStatusCode);
        Assert.NotNull(third.HttpResponseHeaders?.GetValueOrDefault("Retry-After"));

        // Plain requests are not upgraded connections: still served.
        using var admin = node.Client(Fixture.AdminToken);
        Assert.Equal(HttpStatusCode.OK, await admin.StatusAsync("/api/v1/networks"));

        // A closed socket gives its room back.
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
            await first.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
        ClientWebSocket? again = null;
        await Eventually.HoldsAsync(async () =>
        {
            try { again = await node.ConnectLiveChannelAsync(Fixture.AdminToken); return true; }
            catch (WebSocketException) { return false; }
        }, TimeSpan.FromSeconds(15), "a third socket after one closed");
        again!.Dispose();
        foreach (var line in node.LinesSince(0).TakeLast(20)) output.WriteLine(line);
    }

    public sealed class Fixture : IAsyncLifetime
    {
        public const string AdminToken = "wirety_upgrade-limit-token-0123456789abcdefghijklmnop";
        private ChildProcesses? _children;
        private string? _dataRoot;
        public ServerNode Node { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            var cluster = await PostgresCluster.SharedAsync();
            var connectionString = await cluster.CreateDatabaseAsync("wirety_upgrades_" + Guid.NewGuid().ToString("N")[..8]);
            _children = ChildProcesses.Create();
            _dataRoot = Directory.CreateTempSubdirectory("wirety-upgrades-").FullName;
            Node = ServerNode.Create("C", connectionString, AdminToken, _dataRoot, _children,
                new Dictionary<string, string> { ["Wirety__Limits__MaxUpgradedConnections"] = "2" });
            await Node.StartAsync();
        }

        public async Task DisposeAsync()
        {
            if (Node is not null) await Node.DisposeAsync();
            _children?.Dispose();
            if (_dataRoot is not null)
                try { Directory.Delete(_dataRoot, true); } catch (IOException) { }
        }
    }
}
