using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Wirety.Tests.Cluster.Harness;
using Xunit.Abstractions;

namespace Wirety.Tests.Cluster;

/// <summary>
/// Two instances on one database: whatever is committed through A takes effect on B — its caches, its
/// credentials and the agents connected to it — without waiting for a cache to expire.
/// </summary>
public sealed class ClusterTests(ClusterFixture cluster, ITestOutputHelper output) : ClusterTest(cluster, output), IClassFixture<ClusterFixture>
{
    /// <summary>How long B may take to hear a commit made through A: only a timeout, the measured time is
    /// reported. It is typically milliseconds; the bound stays below the 15 s credential TTL
    /// (<c>CredentialCache.Ttl</c>) so that the notice, not the expiry, is what the test proves.</summary>
    private static readonly TimeSpan Propagation = TimeSpan.FromSeconds(12);

    [Fact]
    public async Task two_instances_started_together_on_an_empty_database_share_one_bootstrap_and_elect_one_leader()
    {
        Assert.Equal(HttpStatusCode.OK, await AdminA.StatusAsync("/readyz"));
        Assert.Equal(HttpStatusCode.OK, await AdminB.StatusAsync("/readyz"));
        // Both raced to bootstrap the admin token; exactly one token exists and works on both.
        var tokensA = await AdminA.GetFromJsonAsync<List<TokenView>>("/api/v1/tokens");
        var tokensB = await AdminB.GetFromJsonAsync<List<TokenView>>("/api/v1/tokens");
        Assert.Single(tokensA!, t => t.Bootstrap);
        Assert.Equal(tokensA!.Select(t => t.Id), tokensB!.Select(t => t.Id));

        // Wolverine runs Balanced: each instance is a node with its own number, and one of them leads.
        var nodes = await Cluster.QueryAsync("select node_number from wirety.wolverine_nodes order by node_number");
        Report("wolverine nodes: " + string.Join(", ", nodes));
        Assert.Equal(2, nodes.Distinct().Count());
        // The leader then hands the database's durability agent (inbox/outbox recovery, scheduled
        // messages) to exactly one node, where Solo would have run it on both.
        var (elected, _) = await Eventually.HoldsAsync(async () => (await Cluster.QueryAsync(
                "select id from wirety.wolverine_node_assignments where id like 'wolverine://leader%' or id like 'wolverinedb://%'")).Count == 2,
            TimeSpan.FromSeconds(90), "one node leads and one runs the durability agent");
        Report($"leader and durability agent assigned (waited {elected.TotalSeconds:0.0} s in this test): " +
               string.Join("; ", await Cluster.QueryAsync("select id, node_id from wirety.wolverine_node_assignments order by id")));
    }

    [Fact]
    public async Task an_agent_connected_to_B_is_told_at_once_when_an_admin_on_A_blocks_its_mesh_partner()
    {
        var net = await AdminA.CreateNetworkAsync("push", "10.61.0.0/24");
        var x = await AdminA.AddAndEnrollAsync(A, net, "x");
        var y = await AdminA.AddAndEnrollAsync(A, net, "y");
        await A.HeartbeatAsync(x, 51001, "198.18.0.11:51001");
        await A.HeartbeatAsync(y, 51002, "198.18.0.12:51002");
        await Eventually.HoldsAsync(async () => (await B.AgentConfigAsync(x)).Body.GetProperty("peers").GetArrayLength() == 1,
            TimeSpan.FromSeconds(15), "x lists y directly (read through B)");

        // B has x's config in memory: the same ETag answers 304 there.
        var before = await B.AgentConfigAsync(x);
        Assert.Equal(HttpStatusCode.OK, before.Status);
        Assert.Equal(HttpStatusCode.NotModified, (await B.AgentConfigAsync(x, before.ETag)).Status);

        var mark = B.Mark();
        using var socket = await B.ConnectAgentSocketAsync(x.SessionToken);
        await WaitForSocketAsync(B, x.PeerId, mark);

        var clock = Stopwatch.StartNew();
        await AdminA.PostAsJsonAsync($"/api/v1/networks/{net}/peers/{y.PeerId}/block", new { reason = "cluster test" })
            .ExpectAsync(HttpStatusCode.OK, "block y through A");
        var answered = clock.Elapsed;
        async Task<(string? Version, TimeSpan At)> NextPushAsync()
        {
            var (type, message) = await socket.ReceiveAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(WebSocketMessageType.Text, type);
            Assert.Equal("config-changed", message.GetProperty("type").GetString());
            return (message.GetProperty("version").GetString(), clock.Elapsed);
        }
        var push = await NextPushAsync();
        var version = (await A.AgentConfigAsync(x)).Body.GetProperty("version").GetString();
        // Pushes for the commits before the socket opened may still be under way; the block's must come.
        while (push.Version != version) push = await NextPushAsync();
        var pushed = push.At;

        // Right after the push, B serves the new config: the old ETag no longer matches.
        var after = await B.AgentConfigAsync(x, before.ETag);
        Assert.Equal(HttpStatusCode.OK, after.Status);
        Assert.NotEqual(before.ETag, after.ETag);
        Assert.Equal(version, after.Body.GetProperty("version").GetString());
        Assert.Empty(after.Body.GetProperty("peers").EnumerateArray());
        // The same bytes as A serves.
        var onA = await A.AgentConfigAsync(x);
        Assert.Equal(onA.ETag, after.ETag);
        Report($"block answered by A after {answered.TotalMilliseconds:0} ms; config-changed {version} received from B " +
               $"{(pushed - answered).TotalMilliseconds:0} ms after A's answer");
    }

    [Fact]
    public async Task an_api_token_revoked_through_A_is_refused_by_B_at_once()
    {
        var issued = await AdminA.PostAsJsonAsync("/api/v1/tokens", new { name = "ci", role = "admin" }).ExpectAsync(HttpStatusCode.Created, "issue token");
        var id = issued.GetProperty("id").GetGuid();
        using var onA = A.Client(issued.GetProperty("token").GetString());
        using var onB = B.Client(issued.GetProperty("token").GetString());
        // Used on both, so both hold it in their credential caches.
        Assert.Equal(HttpStatusCode.OK, await onA.StatusAsync("/api/v1/networks"));
        Assert.Equal(HttpStatusCode.OK, await onB.StatusAsync("/api/v1/networks"));
        Assert.Equal(HttpStatusCode.OK, await onB.StatusAsync("/api/v1/networks"));

        var clock = Stopwatch.StartNew();
        await AdminA.DeleteAsync($"/api/v1/tokens/{id}").ExpectAsync(HttpStatusCode.NoContent, "revoke through A");
        var answered = clock.Elapsed;
        Assert.Equal(HttpStatusCode.Unauthorized, await onA.StatusAsync("/api/v1/networks")); // the committing instance: before it answered
        var (_, checks) = await Eventually.HoldsAsync(async () => await onB.StatusAsync("/api/v1/networks") == HttpStatusCode.Unauthorized,
            Propagation, "B refuses the revoked token");
        Report($"revocation answered by A after {answered.TotalMilliseconds:0} ms; B refused the token on request #{checks} to B, " +
               $"{(clock.Elapsed - answered).TotalMilliseconds:0} ms after A's answer");
    }

    [Fact]
    public async Task deleting_a_peer_through_A_revokes_its_session_on_B_and_closes_its_socket_there()
    {
        var net = await AdminA.CreateNetworkAsync("revoke", "10.62.0.0/24");
        var z = await AdminA.AddAndEnrollAsync(A, net, "z");
        var mark = B.Mark();
        using var socket = await B.ConnectAgentSocketAsync(z.SessionToken);
        await WaitForSocketAsync(B, z.PeerId, mark);
        Assert.Equal(HttpStatusCode.OK, (await B.AgentConfigAsync(z)).Status); // B holds the session in memory

        var clock = Stopwatch.StartNew();
        await AdminA.DeleteAsync($"/api/v1/networks/{net}/peers/{z.PeerId}").ExpectAsync(HttpStatusCode.NoContent, "delete z through A");
        var answered = clock.Elapsed;
        var (_, checks) = await Eventually.HoldsAsync(async () => (await B.AgentConfigAsync(z)).Status == HttpStatusCode.Unauthorized,
            Propagation, "B answers 401 for z's session");
        var refused = clock.Elapsed;

        // (A push of z's enrollment may come first.)
        while ((await socket.ReceiveAsync(TimeSpan.FromSeconds(10))).Type != WebSocketMessageType.Close) { }
        var closed = clock.Elapsed;
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, socket.CloseStatus);
        Report($"delete answered by A after {answered.TotalMilliseconds:0} ms; B answered 401 on request #{checks}, " +
               $"{(refused - answered).TotalMilliseconds:0} ms after A's answer; B closed the socket {closed.TotalMilliseconds:0} ms after the delete was sent");
    }

    [Fact]
    public async Task an_admin_connected_to_B_hears_the_changes_and_incidents_committed_through_A()
    {
        using var live = await B.ConnectLiveChannelAsync(ClusterFixture.AdminToken);
        Assert.Equal("ready", (await live.ReceiveAsync(TimeSpan.FromSeconds(10))).Message.GetProperty("type").GetString());
        var heard = new List<JsonElement>();
        async Task<JsonElement> HearAsync(string type, Func<JsonElement, bool> match, string what)
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                var (kind, message) = await live.ReceiveAsync(TimeSpan.FromSeconds(15) - clock.Elapsed);
                Assert.True(kind == WebSocketMessageType.Text, $"B closed the live channel while waiting for {what}");
                heard.Add(message);
                if (message.GetProperty("type").GetString() == type && match(message)) return message;
            }
        }
        static bool Is(JsonElement m, string field, Guid id) => m.TryGetProperty(field, out var v) && v.GetGuid() == id;

        // Admin changes through A.
        var net = await AdminA.CreateNetworkAsync("live", "10.63.0.0/24");
        await HearAsync("network-changed", m => Is(m, "networkId", net), "the network's creation");
        var x = await AdminA.AddAndEnrollAsync(A, net, "x");
        await HearAsync("peer-changed", m => Is(m, "peerId", x.PeerId) && m.GetProperty("change").GetString() == "added", "x added");
        await HearAsync("peer-changed", m => Is(m, "peerId", x.PeerId) && m.GetProperty("change").GetString() == "enrolled", "x enrolled");
        var enrolled = await HearAsync("network-changed", m => Is(m, "networkId", net), "network-changed after the enrollment");
        var version = (await AdminA.GetFromJsonAsync<JsonElement>($"/api/v1/networks/{net}")).GetProperty("version").GetInt64();
        Assert.Equal(version, enrolled.GetProperty("version").GetInt64());

        // Detection on A: x's endpoint flips between two addresses (a shared config) → incident and block.
        var clock = Stopwatch.StartNew();
        await A.HeartbeatAsync(x, 51001, "198.18.0.21:51001");
        await A.HeartbeatAsync(x, 51001, "198.18.0.22:51001");
        await A.HeartbeatAsync(x, 51001, "198.18.0.21:51001");
        var detected = await HearAsync("incident-detected", m => Is(m, "peerId", x.PeerId), "the incident detected on A");
        Assert.Equal("sharedConfig", detected.GetProperty("incidentType").GetString());
        var heardDetection = clock.Elapsed;
        // Same commit as the incident (in stream order, so it may come first).
        if (!heard.Any(m => m.GetProperty("type").GetString() == "peer-changed" && Is(m, "peerId", x.PeerId) && m.GetProperty("change").GetString() == "blocked"))
            await HearAsync("peer-changed", m => Is(m, "peerId", x.PeerId) && m.GetProperty("change").GetString() == "blocked", "x blocked by detection");

        // Resolving through A reaches B too.
        var incident = detected.GetProperty("incidentId").GetGuid();
        clock.Restart();
        await AdminA.PostAsJsonAsync($"/api/v1/incidents/{incident}/resolve", new { note = "cluster test", unblock = true })
            .ExpectAsync(HttpStatusCode.OK, "resolve through A");
        var answered = clock.Elapsed;
        var resolvedAt = heard.Count;
        var unblockedVersion = (await AdminA.GetFromJsonAsync<JsonElement>($"/api/v1/networks/{net}")).GetProperty("version").GetInt64();
        await HearAsync("network-changed", m => Is(m, "networkId", net) && m.GetProperty("version").GetInt64() == unblockedVersion, "the resolution's network-changed");
        Assert.Contains(heard.Skip(resolvedAt), m => m.GetProperty("type").GetString() == "incident-resolved" && Is(m, "incidentId", incident));
        Assert.Contains(heard.Skip(resolvedAt), m => m.GetProperty("type").GetString() == "peer-changed" && Is(m, "peerId", x.PeerId)
                                                      && m.GetProperty("change").GetString() == "unblocked");
        Report($"B's admin socket heard the incident {heardDetection.TotalMilliseconds:0} ms after the first of three heartbeats to A, " +
               $"and the resolution {(clock.Elapsed - answered).TotalMilliseconds:0} ms after A answered it; {heard.Count} notices in all");
        // Each commit once: B must not also hear A's commits twice.
        var versions = heard.Where(m => m.GetProperty("type").GetString() == "network-changed" && Is(m, "networkId", net))
            .Select(m => m.GetProperty("version").GetInt64()).ToList();
        Assert.Equal(versions.Order().Distinct(), versions);
    }

    private sealed record TokenView(Guid Id, string Name, bool Bootstrap);
}
