using Wirety.Events.Networks;
using Wirety.Projections.History;
using Wirety.Projections.Networks;
using Wirety.Server.Agents;
using Wirety.Server.Networks;
using static Wirety.Tests.Unit.Decided;

namespace Wirety.Tests.Unit.Networks;

public sealed class DnsEndpointAllowanceTests
{
    private static readonly Network Net = TestNetwork.Create("10.10.0.0/24");

    [Fact]
    public void allowing_dns_endpoints_is_an_event_with_its_actor_folded_into_the_network_and_a_repeat_is_a_no_op()
    {
        Assert.False(Net.AllowDnsEndpoints);
        var request = new UpdateNetworkRequest(null, null, null, null, null) { AllowDnsEndpoints = true };
        Accepted(UpdateNetwork.Validate(request, Net, [Net], Net.Id));

        var (result, events) = UpdateNetwork.Patch(request, Net, Admin, Clock);
        var allowed = Assert.IsType<DnsEndpointsAllowanceChanged>(Assert.Single(events));
        Assert.Equal((Net.Id, true, AdminActor, Now), (allowed.NetworkId, allowed.Allowed, allowed.Actor, allowed.At));
        Assert.True(Body<NetworkView>(result).AllowDnsEndpoints);

        var after = NetworkEvolution.Evolve(Net, allowed)!;
        Assert.True(after.AllowDnsEndpoints);
        Assert.True(NetworkEvolution.Handles(allowed));
        Assert.Contains(typeof(DnsEndpointsAllowanceChanged), NetworkEvolution.EventTypes);
        Assert.Empty(UpdateNetwork.Patch(request, after, Admin, Clock).Item2);
    }

    [Fact]
    public void the_timeline_tells_who_allowed_and_who_stopped_allowing_dns_endpoints()
    {
        object[] events =
        [
            new NetworkCreated(Net.Id, "office", "10.10.0.0/24", null, [], null, AdminActor, Now),
            new DnsEndpointsAllowanceChanged(Net.Id, true, AdminActor, Now),
            new DnsEndpointsAllowanceChanged(Net.Id, false, AdminActor, Now),
        ];
        var timeline = Timeline.Build(events.Select((e, i) => new RecordedEvent(i + 1, Net.Id, i + 1, e, Now)));
        Assert.Equal(
        [
            "ops-token allowed DNS names as peer endpoints in network office",
            "ops-token stopped allowing DNS names as peer endpoints in network office; endpoints must be IP addresses",
        ], timeline.Skip(1).Select(e => e.Summary));
        Assert.Equal(("network", Net.Id), (timeline[1].Subject.Kind, timeline[1].Subject.Id));
    }

    [Theory]
    [InlineData("vpn.example.com:51820", false, false)]
    [InlineData("vpn.example.com:51820", true, true)]
    [InlineData("localhost:51820", false, false)]
    [InlineData("192.0.2.1:51820", false, true)]
    [InlineData("[2001:db8::1]:51820", false, true)]
    [InlineData("vpn.example.com:0", true, false)]
    public void an_endpoint_is_an_address_literal_unless_dns_names_are_allowed(string endpoint, bool allowDns, bool accepted)
    {
        Assert.Equal(accepted, AgentRules.Endpoint(endpoint, allowDns) is null);
    }
}
