using Wirety.Testing;
using System.Net;
using System.Net.Http.Json;
using Marten;
using Microsoft.Extensions.Configuration;
using Wirety.Events.Peers;
using Wirety.Projections.Agents;
using Wirety.Server.Forwarding;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Agents;

/// <summary>
/// Behind a load balancer the connection comes from the balancer; the agent's own address is in
/// X-Forwarded-For, which is believed only from the configured trusted proxies (here
/// <see cref="WiretyApp.TrustedProxies"/>), since anyone can send the header.
/// </summary>
public sealed class ForwardedForTests(WiretyApp app) : AgentTest(app)
{
    private const string Proxy = "10.255.0.1";

    [Theory]
    [InlineData(Proxy, "198.51.100.20", "198.51.100.20")]                          // one trusted balancer
    [InlineData("fd00:ffff::5", "203.0.113.40, 10.255.0.1", "203.0.113.40")]       // two trusted hops (IPv6 prefix, then an address)
    [InlineData(Proxy, "192.0.2.99, 198.51.100.22", "198.51.100.22")]              // what the client claimed left of the first untrusted hop is ignored
    [InlineData("::ffff:10.255.0.1", "198.51.100.23", "198.51.100.23")]            // the balancer seen as an IPv4-mapped address
    [InlineData(Proxy, "not-an-address", Proxy)]                                   // an unreadable header counts for nothing
    [InlineData("192.0.2.50", "198.51.100.21", "192.0.2.50")]                      // an untrusted sender cannot choose its address
    public async Task the_recorded_source_is_the_forwarded_client_only_behind_a_trusted_proxy(string connectedFrom, string forwardedFor, string recorded)
    {
        var (net, _) = await NetworkWithJumpAsync();
        var agent = await EnrollAsync(await TokenForAsync(net, "laptop"));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/agent/heartbeat")
        {
            Content = JsonContent.Create(new { hostname = "host", listenPort = 51820, uptimeSeconds = 5 }),
        };
        request.Headers.Add(TestRemoteAddress.Header, connectedFrom);
        request.Headers.Add(TrustedProxies.Header, forwardedFor);
        Assert.Equal(HttpStatusCode.NoContent, (await AndCascadesAsync(() => agent.Client.SendAsync(request))).StatusCode);

        await using var session = App.Store.QuerySession();
        var heartbeat = Assert.IsType<HeartbeatReceived>(Assert.Single(await session.Events.FetchStreamAsync(HeartbeatStreams.For(agent.PeerId))).Data);
        Assert.Equal(recorded, heartbeat.SourceAddress);
        // The endpoint others dial is derived from the same address.
        var expected = Wirety.Server.Agents.AgentRules.EndpointOf(recorded, 51820);
        Assert.Contains((await session.Events.FetchStreamAsync(net)).Select(e => e.Data).OfType<EndpointChanged>(), c => c.Endpoint == expected);
    }

    [Fact]
    public void without_configuration_no_proxy_is_trusted_and_a_bad_entry_refuses_to_start()
    {
        var none = TrustedProxies.From(new ConfigurationBuilder().Build());
        Assert.False(none.Any);
        Assert.Equal(IPAddress.Parse(Proxy), none.ClientAddress(IPAddress.Parse(Proxy), "198.51.100.20"));

        var bad = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [TrustedProxies.Setting] = "10.0.0.1, lb.example" }).Build();
        var error = Assert.Throws<InvalidOperationException>(() => TrustedProxies.From(bad));
        Assert.Contains("lb.example", error.Message);
    }
}
