using Wirety.Events.Peers;
using Wirety.Events.Segmentation;
using Wirety.Projections.Networks;
using Wirety.Projections.Segmentation;
using Wirety.Tests.Unit.Configs;
using static Wirety.Tests.Unit.TestNetwork;

namespace Wirety.Tests.Unit.Segmentation;

public class AccessRulesTests
{
    private static readonly Guid Jump = PeerId(1), Alice = PeerId(2), Bob = PeerId(3), Carol = PeerId(4);
    private static readonly Guid Admins = PeerId(100), Servers = PeerId(101), Ssh = PeerId(200), Web = PeerId(201);

    private static Network Office() => Create()
        .AddPeer(Jump, "jump", PeerKind.Jump, Key(1), "198.51.100.1:51820")
        .AddPeer(Alice, "alice", PeerKind.Dynamic, Key(2))
        .AddPeer(Bob, "bob", PeerKind.Dynamic, Key(3))
        .AddPeer(Carol, "carol", PeerKind.Dynamic, Key(4));

    private static PortSet Allowed(Network network, Guid from, Guid to) =>
        AccessRules.Of(network).Allowed(network.FindPeer(from)!, network.FindPeer(to)!);

    [Fact]
    public void under_allow_every_peer_reaches_every_other_as_before_policies()
    {
        var network = Office();

        Assert.True(Allowed(network, Alice, Bob).IsEverything);
        Assert.True(Allowed(network, Bob, Jump).IsEverything);
        Assert.True(Allowed(network, Alice, Alice).IsEmpty);
    }

    [Fact]
    public void under_deny_only_what_a_policy_allows_is_allowed_and_only_in_its_direction()
    {
        var network = Office().Deny().Policy(Ssh, [Alice], [Bob], "tcp/22");

        Assert.Equal(["tcp/22"], Allowed(network, Alice, Bob).ToTexts());
        Assert.True(Allowed(network, Bob, Alice).IsEmpty);
        Assert.True(Allowed(network, Alice, Carol).IsEmpty);
        Assert.True(AccessRules.Of(network).Connected(network.FindPeer(Bob)!, network.FindPeer(Alice)!));
    }

    [Fact]
    public void policies_through_groups_add_up_their_ports()
    {
        var network = Office().Deny()
            .Group(Admins, "admins", Alice).Group(Servers, "servers", Bob, Carol)
            .Policy(Ssh, [Admins], [Servers], "tcp/22")
            .Policy(Web, [Admins], [Bob], "tcp/8000-8100", "tcp/22", "icmp");

        Assert.Equal(["tcp/22", "tcp/8000-8100", "icmp"], Allowed(network, Alice, Bob).ToTexts());
        Assert.Equal(["tcp/22"], Allowed(network, Alice, Carol).ToTexts());
    }

    [Fact]
    public void an_isolated_peer_talks_to_jumps_only_whatever_the_policies_say()
    {
        var network = Office().WithPeer(Alice, p => p with { Isolated = true }).Deny()
            .Policy(Ssh, [Alice], [Bob, Jump]);

        Assert.True(Allowed(network, Alice, Bob).IsEmpty);
        Assert.True(Allowed(network, Alice, Jump).IsEverything);
        Assert.True(Allowed(Office().WithPeer(Alice, p => p with { Isolated = true }), Bob, Alice).IsEmpty);
    }

    [Fact]
    public void a_blocked_peer_reaches_nobody_and_nobody_reaches_it() =>
        Assert.True(Allowed(Office().Block(Bob), Alice, Bob).IsEmpty);

    [Fact]
    public void a_removed_peer_or_group_leaves_the_policies_that_named_it()
    {
        var network = Office().Deny().Group(Admins, "admins", Alice, Carol).Policy(Ssh, [Admins], [Bob]);

        var withoutCarol = network.Remove(Carol);
        Assert.Equal([Alice], withoutCarol.FindGroup(Admins)!.Members.ToArray());
        var withoutGroup = NetworkEvolution.Evolve(network, new GroupDeleted(network.Id, Admins, Wirety.Events.Actor.System, At))!;
        Assert.Empty(withoutGroup.FindPolicy(Ssh)!.Sources.Groups);
        Assert.True(Allowed(withoutGroup, Alice, Bob).IsEmpty);
    }

    [Fact]
    public void a_route_is_offered_to_its_groups_and_follows_what_the_user_may_open_to_its_peer()
    {
        var route = PeerId(300);
        var network = Office().Deny().Group(Admins, "admins", Alice)
            .Policy(Ssh, [Admins, Carol], [Bob], "tcp/22")
            .Route(route, "192.168.10.0/24", Bob, Admins);
        var access = AccessRules.Of(network);
        var state = network.FindRoute(route)!;

        Assert.Equal(["tcp/22"], access.RouteAccess(state, network.FindPeer(Alice)!).ToTexts());
        Assert.True(access.RouteAccess(state, network.FindPeer(Carol)!).IsEmpty); // not in the route's groups
        Assert.True(access.RouteAccess(state, network.FindPeer(Bob)!).IsEmpty);   // its own route
    }

    /// <summary>The property: the compiled evaluation equals a brute-force one over random groups and policies.</summary>
    [Fact]
    public void reachability_equals_a_brute_force_evaluation_of_the_rules_over_random_networks()
    {
        var random = new RandomNetworks(seed: 4242);
        var checkedPairs = 0;
        var allowedPackets = 0;
        for (var round = 0; round < 400; round++)
        {
            var network = random.Network(maxPeers: 9);
            var access = AccessRules.Of(network);
            foreach (var from in network.Peers)
                foreach (var to in network.Peers)
                {
                    var ports = access.Allowed(from, to);
                    foreach (var (protocol, port) in BruteForce.Probes)
                    {
                        var expected = BruteForce.Allowed(network, from, to, protocol, port);
                        Assert.True(expected == ports.Allows(protocol, port),
                            $"round {round}: {from.Name} → {to.Name} {protocol}/{port}: brute force {expected}, rules {ports}");
                        if (expected) allowedPackets++;
                    }
                    Assert.Equal(!ports.IsEmpty, access.Pairs().Any(p => p.From.Id == from.Id && p.To.Id == to.Id));
                    checkedPairs++;
                }
        }
        Assert.True(checkedPairs > 5_000 && allowedPackets > 10_000, $"{checkedPairs} pairs, {allowedPackets} allowed packets: the generator is too tame");
    }

    [Theory]
    [InlineData("tcp/22", "tcp/22")]
    [InlineData("tcp/22-22", "tcp/22")]
    [InlineData("tcp/1-65535", "tcp")]
    [InlineData("udp", "udp")]
    [InlineData("icmp", "icmp")]
    [InlineData("tcp/8000-8100", "tcp/8000-8100")]
    public void port_rules_have_one_canonical_spelling(string text, string canonical)
    {
        Assert.True(PortRange.TryParse(text, out var range, out var error), error);
        Assert.Equal(canonical, range.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("TCP/22")]
    [InlineData("tcp/0")]
    [InlineData("tcp/65536")]
    [InlineData("tcp/22-21")]
    [InlineData("tcp/022")]
    [InlineData("icmp/8")]
    [InlineData("sctp/22")]
    [InlineData("tcp/")]
    [InlineData("tcp/-1")]
    [InlineData("tcp/1-2-3")]
    public void malformed_port_rules_are_refused_with_a_reason(string text)
    {
        Assert.False(PortRange.TryParse(text, out _, out var error));
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Fact]
    public void port_sets_merge_and_subtract_ranges()
    {
        var a = PortSet.OfPolicy(["tcp/20-30", "tcp/25-40", "udp/53"]);
        var b = PortSet.OfPolicy(["tcp/22"]);

        Assert.Equal(["tcp/20-40", "udp/53"], a.ToTexts());
        Assert.Equal(["tcp/20-21", "tcp/23-40", "udp/53"], a.Except(b).ToTexts());
        Assert.True(b.Except(a).IsEmpty);
        Assert.Equal(["tcp/1-21", "tcp/23-65535", "udp", "icmp"], PortSet.Everything.Except(b).ToTexts());
        Assert.True(PortSet.Everything.Except(PortSet.None).IsEverything);
    }
}
