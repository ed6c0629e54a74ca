using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Wirety.Events;
using Wirety.Events.Peers;
using Wirety.Events.Segmentation;
using Wirety.Projections.Networks;
using Wirety.Server.Peers;
using Wirety.Server.Routes;
using static Wirety.Tests.Unit.Decided;

namespace Wirety.Tests.Unit.Routes;

public sealed class RouteDeciderTests
{
    private static readonly Guid Hub = TestNetwork.PeerId(1), Laptop = TestNetwork.PeerId(2), Nas = TestNetwork.PeerId(3);
    private static readonly Network Net = TestNetwork.Create()
        .AddPeer(Hub, "hub", PeerKind.Jump, TestNetwork.Key(1), endpoint: "198.18.0.1:51820")
        .AddPeer(Laptop, "laptop", PeerKind.Dynamic)
        .AddPeer(Nas, "nas", PeerKind.Dynamic)
        .WithPeer(Laptop, p => p with { ObservedEndpoint = "[::ffff:192.0.2.77]:41000" });
    private static readonly ProtectedAddresses Server = new([IPAddress.Parse("203.0.113.10")]);

    private static AddRouteRequest Route(string cidr, Guid? via = null, params Guid[] groups) => new(cidr, via ?? Nas, groups);

    [Fact]
    public void adding_a_route_appends_route_added_with_its_canonical_cidr()
    {
        Accepted(AddRoute.Validate(Route("192.168.50.0/24"), Net, Net.Id, Server));

        var (result, events) = AddRoute.Post(Route("192.168.50.0/24"), Net, Admin, Clock);

        var added = Assert.IsType<RouteAdded>(Assert.Single(events));
        Assert.Equal(("192.168.50.0/24", Nas, AdminActor, Now), (added.Cidr, added.ViaPeerId, added.Actor, added.At));
        var view = Body<RouteView>(result);
        Assert.Equal(("nas", false), (view.Via.Name, view.ExitNode));
    }

    [Theory]
    [InlineData("10.10.0.0/16", "own range")]
    [InlineData("10.10.0.4/30", "own range")]
    [InlineData("198.18.0.0/15", "endpoint of peer 'hub'")]
    [InlineData("192.0.2.64/26", "endpoint of peer 'laptop'")]
    [InlineData("203.0.113.0/24", "address of this server")]
    [InlineData("192.168.50.1/24", "did you mean 192.168.50.0/24?")]
    [InlineData("fd00::/64", "not an IPv4 address")]
    public void a_route_covering_what_must_stay_outside_the_tunnel_is_refused(string cidr, string reason)
    {
        Assert.Contains(reason, Refused(AddRoute.Validate(Route(cidr), Net, Net.Id, Server), 400).Detail);
    }

    [Fact]
    public void the_default_route_is_an_exit_node_exempt_from_the_cover_rules_but_not_through_a_jump()
    {
        Accepted(AddRoute.Validate(Route("0.0.0.0/0", Laptop), Net, Net.Id, Server));
        Assert.True(Body<RouteView>(AddRoute.Post(Route("0.0.0.0/0", Laptop), Net, Admin, Clock).Item1).ExitNode);
        Assert.Contains("fullEncapsulation", Refused(AddRoute.Validate(Route("0.0.0.0/0", Hub), Net, Net.Id, Server), 400).Detail);
    }

    [Fact]
    public void the_same_subnet_via_the_same_peer_is_a_conflict_and_unknown_ids_are_refused()
    {
        var routed = NetworkEvolution.Evolve(Net, AddRoute.Post(Route("192.168.50.0/24"), Net, Admin, Clock).Item2[0])!;
        Refused(AddRoute.Validate(Route("192.168.50.0/24"), routed, Net.Id, Server), 409);
        Accepted(AddRoute.Validate(Route("192.168.50.0/24", Laptop), routed, Net.Id, Server));
        Assert.Equal(["via"], Fields(Refused(AddRoute.Validate(Route("192.168.50.0/24", Guid.Empty), Net, Net.Id, Server), 400)));
        Assert.Equal(["groups"], Fields(Refused(AddRoute.Validate(Route("192.168.50.0/24", Nas, Guid.NewGuid()), Net, Net.Id, Server), 400)));
        Assert.Equal(["cidr", "via"], Fields(Refused(AddRoute.Validate(new AddRouteRequest(null, null, null), Net, Net.Id, Server), 400)));
    }

    [Fact]
    public void additional_allowed_ips_follow_the_cover_rules_except_for_what_the_peer_already_has()
    {
        Assert.Contains("address of this server", PeerRules.AdditionalAllowedIps(["203.0.0.0/8"], Net, null, out _, Server));
        Assert.Contains("endpoint of peer 'laptop'", PeerRules.AdditionalAllowedIps(["192.0.2.0/24"], Net, Nas, out _, Server));
        Assert.Null(PeerRules.AdditionalAllowedIps(["192.168.60.0/24"], Net, Nas, out _, Server));

        var legacy = Net.WithPeer(Nas, p => p with { AdditionalAllowedIps = ["203.0.113.0/24"] });
        Assert.Null(PeerRules.AdditionalAllowedIps(["203.0.113.0/24", "192.168.60.0/24"], legacy, Nas, out var kept, Server));
        Assert.Equal(["203.0.113.0/24", "192.168.60.0/24"], kept.ToArray());
    }

    [Fact]
    public void server_addresses_come_from_configuration_and_the_local_address_of_the_request()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [ServerAddresses.Key] = " 203.0.113.10, 2001:db8::1 " }).Build();
        var server = ServerAddresses.From(config);
        Assert.Equal(["203.0.113.10", "2001:db8::1"], server.Configured.Select(a => a.ToString()));
        var http = new DefaultHttpContext();
        http.Connection.LocalIpAddress = IPAddress.Parse("::ffff:192.0.2.9");
        Assert.Equal(["203.0.113.10", "2001:db8::1", "192.0.2.9"], server.For(http).Server.Select(a => a.ToString()));
        Assert.Equal(2, server.For(new DefaultHttpContext()).Server.Length);

        var bad = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [ServerAddresses.Key] = "203.0.113.10, server.example" }).Build();
        Assert.Contains("server.example", Assert.Throws<InvalidOperationException>(() => ServerAddresses.From(bad)).Message);
        Assert.Empty(ServerAddresses.From(new ConfigurationBuilder().Build()).Configured);
    }
}
