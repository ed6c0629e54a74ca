using System.Net;
using System.Net.WebSockets;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Marten;
using Wirety.Events.Peers;
using Wirety.Projections.Agents;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Agents;

public sealed class AgentProtocolTests(WiretyApp app) : AgentTest(app)
{
    [Fact]
    public async Task the_agent_config_has_a_strong_etag_and_answers_304_when_unchanged()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var agent = await EnrollAsync(await TokenForAsync(net, "laptop"));
        var first = await agent.Client.GetAsync("/api/v1/agent/config");
        Assert.Equal("application/json", first.Content.Headers.ContentType?.MediaType);
        // The config handed out at enrollment is the projected one, version included.
        Assert.Equal(agent.Config.GetRawText(), await first.Content.ReadAsStringAsync());
        var etag = first.Headers.ETag!;
        Assert.False(etag.IsWeak);

        // Session and config are cached after the first call: a 304 needs no database round trip.
        var before = App.DatabaseCommands.Count;
        for (var i = 0; i < 3; i++)
        {
            var conditional = new HttpRequestMessage(HttpMethod.Get, "/api/v1/agent/config");
            conditional.Headers.IfNoneMatch.Add(etag);
            Assert.Equal(HttpStatusCode.NotModified, (await agent.Client.SendAsync(conditional)).StatusCode);
        }
        Assert.Equal(before, App.DatabaseCommands.Count);
    }

    [Fact]
    public async Task admin_tokens_and_session_tokens_only_open_their_own_doors()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var agent = await EnrollAsync(await TokenForAsync(net, "laptop"));
        await AssertProblemAsync(await Admin.GetAsync("/api/v1/agent/config"), 401);
        await AssertProblemAsync(await agent.Client.GetAsync("/api/v1/networks"), 401);
        await AssertProblemAsync(await App.Client(null).GetAsync("/api/v1/agent/config"), 401);
    }

    [Fact]
    public async Task a_heartbeat_is_committed_to_the_peers_own_stream_with_the_source_address_and_session()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var agent = await EnrollAsync(await TokenForAsync(net, "laptop"));
        var response = await HeartbeatAsync(agent);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);

        await using var session = App.Store.QuerySession();
        var events = await session.Events.FetchStreamAsync(HeartbeatStreams.For(agent.PeerId));
        var heartbeat = Assert.IsType<HeartbeatReceived>(Assert.Single(events).Data);
        Assert.Equal(agent.PeerId, heartbeat.PeerId);
        Assert.Equal(51820, heartbeat.ListenPort);
        Assert.False(string.IsNullOrEmpty(heartbeat.SourceAddress));
        // Heartbeats never land on the network stream.
        Assert.DoesNotContain(await session.Events.FetchStreamAsync(net), e => e.Data is HeartbeatReceived);
    }

    [Theory]
    [InlineData("{\"listenPort\":51820,\"uptimeSeconds\":1}", "hostname")]
    [InlineData("{\"hostname\":\"h\",\"listenPort\":70000,\"uptimeSeconds\":1}", "listenPort")]
    [InlineData("{\"hostname\":\"h\",\"uptimeSeconds\":-1}", "uptimeSeconds")]
    [InlineData("{\"hostname\":\"h\",\"uptimeSeconds\":1,\"endpoints\":[\"nope\"]}", "endpoints")]
    [InlineData("{\"hostname\":\"h\",\"uptimeSeconds\":1,\"peerStats\":[{\"publicKey\":\"x\",\"rxBytes\":0,\"txBytes\":0}]}", "peerStats")]
    public async Task bad_heartbeats_are_400_and_append_nothing(string json, string field)
    {
        var (net, _) = await NetworkWithJumpAsync();
        var agent = await EnrollAsync(await TokenForAsync(net, "laptop"));
        var problem = await AssertRefusedAsync(() => agent.Client.PostAsync("/api/v1/agent/heartbeat",
            new StringContent(json, Encoding.UTF8, "application/json")), 400);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task two_dynamic_peers_list_each_other_directly_once_both_endpoints_are_known()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var a = await EnrollAsync(await TokenForAsync(net, "a"));
        var b = await EnrollAsync(await TokenForAsync(net, "b"));
        Assert.Empty((await AgentConfigAsync(a)).GetProperty("peers").EnumerateArray());

        await HeartbeatAsync(a, 51001, ["198.18.0.11:51001"]);
        await HeartbeatAsync(b, 51002, ["198.18.0.12:51002"]);
        var entry = Assert.Single((await AgentConfigAsync(a)).GetProperty("peers").EnumerateArray()); // a lists b directly
        Assert.Equal(b.PublicKey, entry.GetProperty("publicKey").GetString());
        Assert.Equal("198.18.0.12:51002", entry.GetProperty("endpoint").GetString());
        Assert.Equal("10.10.0.3/32", entry.GetProperty("allowedIps")[0].GetString());
        var back = (await AgentConfigAsync(b)).GetProperty("peers")[0];
        Assert.Equal(a.PublicKey, back.GetProperty("publicKey").GetString());

        // The change is an event on the network stream, attributed to the session.
        await using var session = App.Store.QuerySession();
        var changes = (await session.Events.FetchStreamAsync(net)).Select(e => e.Data).OfType<EndpointChanged>().ToList();
        Assert.Equal(2, changes.Count);
        // A repeated heartbeat from the same place records nothing new.
        await HeartbeatAsync(a, 51001, ["198.18.0.11:51001"]);
        Assert.Equal(2, (await session.Events.FetchStreamAsync(net)).Select(e => e.Data).OfType<EndpointChanged>().Count());
    }

    [Fact]
    public async Task a_websocket_agent_is_told_when_its_config_changes()
    {
        var (net, a, b) = await MeshedPairAsync();

        using var socket = await App.ConnectAgentSocketAsync(a.SessionToken);
        await Admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers/{b.PeerId}/block", new { reason = "test" });

        var config = await AgentConfigAsync(a);
        Assert.Empty(config.GetProperty("peers").EnumerateArray());
        var version = config.GetProperty("version").GetString()!;
        // The push for the block arrives; pushes for commits from before the socket opened may still be ahead of it.
        while (true)
        {
            var message = await ReceiveAsync(socket);
            Assert.Equal("config-changed", message.GetProperty("type").GetString());
            var pushed = message.GetProperty("version").GetString()!;
            if (pushed == version) break;
            Assert.True(long.Parse(pushed) < long.Parse(version), $"pushed {pushed} after the block ({version})");
        }
    }

    [Fact]
    public async Task deleting_a_peer_revokes_its_session_at_once_and_closes_its_socket()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var agent = await EnrollAsync(await TokenForAsync(net, "laptop"));
        using var socket = await App.ConnectAgentSocketAsync(agent.SessionToken);
        Assert.Equal(HttpStatusCode.OK, (await agent.Client.GetAsync("/api/v1/agent/config")).StatusCode);

        await Admin.DeleteAsync($"/api/v1/networks/{net}/peers/{agent.PeerId}");
        await AssertProblemAsync(await agent.Client.GetAsync("/api/v1/agent/config"), 401);
        await AssertProblemAsync(await HeartbeatAsync(agent), 401);

        var buffer = new byte[256];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        // A config-changed for the enrollment may still come first (its push can trail the socket's opening).
        while ((await socket.ReceiveAsync(buffer, timeout.Token)).MessageType != WebSocketMessageType.Close) { }
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, socket.CloseStatus);
    }

    private static async Task<JsonElement> ReceiveAsync(WebSocket socket)
    {
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var result = await socket.ReceiveAsync(buffer, timeout.Token);
        Assert.Equal(WebSocketMessageType.Text, result.MessageType);
        return JsonDocument.Parse(buffer.AsMemory(0, result.Count)).RootElement.Clone();
    }
}
