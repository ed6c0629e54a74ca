using Wirety.Tests.Api.Agents;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Peers;

public sealed class ObservedEndpointTests(WiretyApp app) : AgentTest(app)
{
    [Fact]
    public async Task a_peer_view_shows_where_its_agent_was_last_seen_from()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var laptop = await EnrollAsync(await TokenForAsync(net, "laptop"), "laptop");
        var before = await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{net}/peers/{laptop.PeerId}"));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, before.GetProperty("observedEndpoint").ValueKind);

        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await HeartbeatAsync(laptop, endpoints: ["198.51.100.7:51820"])).StatusCode);
        var peer = await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{net}/peers/{laptop.PeerId}"));
        Assert.Equal("198.51.100.7:51820", peer.GetProperty("observedEndpoint").GetString());
    }
}
