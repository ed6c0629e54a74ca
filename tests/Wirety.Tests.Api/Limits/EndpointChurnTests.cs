using Wirety.Events.Peers;

namespace Wirety.Tests.Api.Limits;

public sealed class EndpointChurnTests(LimitsApp app) : LimitsTest(app)
{
    private async Task<List<string?>> EndpointChangesAsync(Guid net)
    {
        await using var session = App.Store.QuerySession();
        return (await session.Events.FetchStreamAsync(net)).Select(e => e.Data).OfType<EndpointChanged>().Select(e => e.Endpoint).ToList();
    }

    [Fact]
    public async Task an_agent_gets_at_most_one_endpoint_change_per_interval_into_the_network_stream()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var a = await EnrollFromAsync("198.51.100.41", await TokenForAsync(net, "a"));
        await HeartbeatAsync(a, 51001, ["192.0.2.10:51001"]);
        Assert.Equal(["192.0.2.10:51001"], await EndpointChangesAsync(net));

        // Inside the interval a new endpoint is not recorded: the mesh is not re-rendered for it.
        App.Clock.Advance(TimeSpan.FromSeconds(10));
        await HeartbeatAsync(a, 51001, ["192.0.2.11:51001"]);
        Assert.Equal(["192.0.2.10:51001"], await EndpointChangesAsync(net));
        var peer = await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{net}/peers/{a.PeerId}"));
        Assert.Equal("192.0.2.10:51001", peer.GetProperty("observedEndpoint").GetString());

        // Once the interval has passed, the agent's next report of where it is now is recorded.
        App.Clock.Advance(LimitsApp.EndpointChangeInterval);
        await HeartbeatAsync(a, 51001, ["192.0.2.11:51001"]);
        Assert.Equal(["192.0.2.10:51001", "192.0.2.11:51001"], await EndpointChangesAsync(net));
    }
}
