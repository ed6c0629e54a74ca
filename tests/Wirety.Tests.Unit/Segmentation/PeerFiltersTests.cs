using Wirety.Events.Agent;
using Wirety.Events.Peers;
using Wirety.Events.Segmentation;
using Wirety.Projections.Configs;
using Wirety.Projections.Networks;
using Wirety.Projections.Segmentation;
using Wirety.Tests.Unit.Configs;
using static Wirety.Tests.Unit.TestNetwork;

namespace Wirety.Tests.Unit.Segmentation;

public class PeerFiltersTests
{
    private static readonly Guid Jump = PeerId(1), Alice = PeerId(2), Bob = PeerId(3), Carol = PeerId(4), Printer = PeerId(5);
    private static readonly Guid Ssh = PeerId(200), Lan = PeerId(300), Exit = PeerId(301);

    private static Network Office() => Create()
        .AddPeer(Jump, "jump", PeerKind.Jump, Key(1), "198.51.100.1:51820")
        .AddPeer(Alice, "alice", PeerKind.Dynamic, Key(2), "203.0.113.2:51820")
        .AddPeer(Bob, "bob", PeerKind.Dynamic, Key(3), "203.0.113.3:51820")
        .AddPeer(Carol, "carol", PeerKind.Dynamic, Key(4), "203.0.113.4:51820")
        .AddPeer(Printer, "printer", PeerKind.Static, Key(5));

    private static AgentFilter Filter(Network network, Guid peer) => PeerFilters.For(network, network.FindPeer(peer)!)!;

    private static string Address(Network network, Guid peer) => network.FindPeer(peer)!.Address;

    [Fact]
    public void under_allow_agents_accept_whatever_reaches_them_and_the_jump_relays_inside_the_network()
    {
        var network = Office();

        Assert.Equal([new AgentFilterRule("accept", [], [], [])], Filter(network, Alice).Input, RuleComparer.Instance);
        Assert.Null(Filter(network, Alice).Forward);
        Assert.Equal(
            [new AgentFilterRule("accept", [], ["10.10.0.0/24"], []), new AgentFilterRule("drop", [], ["10.10.0.0/24"], [])],
            Filter(network, Jump).Forward!, RuleComparer.Instance);
    }

    [Fact]
    public void under_deny_a_policy_becomes_an_accept_on_the_destination_and_on_the_jump()
    {
        var network = Office().Deny().Policy(Ssh, [Alice], [Bob], "tcp/22");
        var alice = Address(network, Alice) + "/32";
        var bob = Address(network, Bob) + "/32";

        Assert.Equal([new AgentFilterRule("accept", [alice], [], ["tcp/22"])], Filter(network, Bob).Input, RuleComparer.Instance);
        Assert.Empty(Filter(network, Alice).Input);
        Assert.Equal(
            [new AgentFilterRule("accept", [alice], [bob], ["tcp/22"]), new AgentFilterRule("drop", [], ["10.10.0.0/24"], [])],
            Filter(network, Jump).Forward!, RuleComparer.Instance);
    }

    [Fact]
    public void static_peers_get_no_filter_and_a_blocked_peer_accepts_nothing()
    {
        var network = Office().Block(Bob);

        Assert.Null(PeerFilters.For(network, network.FindPeer(Printer)!));
        Assert.Empty(Filter(network, Bob).Input);
        var bob = Address(network, Bob) + "/32";
        Assert.Equal([new AgentFilterRule("drop", [bob], [], []), new AgentFilterRule("drop", [], [bob], [])],
            Filter(network, Jump).Forward!.Take(2), RuleComparer.Instance);
    }

    [Fact]
    public void an_isolated_peer_accepts_only_jumps_and_the_jump_keeps_it_out_of_the_mesh()
    {
        var network = Office().WithPeer(Carol, p => p with { Isolated = true, FullEncapsulation = true });
        var carol = Address(network, Carol) + "/32";

        Assert.Equal([new AgentFilterRule("accept", [Address(network, Jump) + "/32"], [], [])], Filter(network, Carol).Input, RuleComparer.Instance);
        var forward = Filter(network, Jump).Forward!;
        Assert.True(BruteForce.FilterAccepts(forward, Address(network, Carol), "8.8.8.8", PortProtocol.Udp, 53)); // it may still leave via the jump
        Assert.False(BruteForce.FilterAccepts(forward, Address(network, Carol), Address(network, Alice), PortProtocol.Tcp, 22));
        Assert.False(BruteForce.FilterAccepts(forward, Address(network, Alice), Address(network, Carol), PortProtocol.Tcp, 22));
        Assert.Contains(forward, r => r.Action == "drop" && r.Destinations.SequenceEqual([carol]));
    }

    [Fact]
    public void a_subnet_route_is_forwarded_by_its_peer_only_for_the_peers_it_is_offered_to()
    {
        var network = Office().Deny().Policy(Ssh, [Alice, Carol], [Bob], "tcp/22").Group(PeerId(100), "ops", Alice)
            .Route(Lan, "192.168.10.0/24", Bob, PeerId(100));
        var forward = Filter(network, Bob).Forward!;

        Assert.True(BruteForce.FilterAccepts(forward, Address(network, Alice), "192.168.10.7", PortProtocol.Tcp, 22));
        Assert.False(BruteForce.FilterAccepts(forward, Address(network, Alice), "192.168.10.7", PortProtocol.Tcp, 80));
        Assert.False(BruteForce.FilterAccepts(forward, Address(network, Carol), "192.168.10.7", PortProtocol.Tcp, 22));
        Assert.False(BruteForce.FilterAccepts(forward, Address(network, Alice), Address(network, Carol), PortProtocol.Tcp, 22));
        Assert.Equal(["10.10.0.0/24"], AgentConfigMapper.MasqueradeSources(network, Bob));
        Assert.True(BruteForce.FilterAccepts(Filter(network, Jump).Forward!, Address(network, Alice), "192.168.10.7", PortProtocol.Tcp, 22));
    }

    [Fact]
    public void an_exit_node_forwards_its_users_to_the_internet_but_not_into_the_mesh()
    {
        var network = Office().Route(Exit, "0.0.0.0/0", Bob);
        var forward = Filter(network, Bob).Forward!;

        Assert.True(BruteForce.FilterAccepts(forward, Address(network, Alice), "8.8.8.8", PortProtocol.Udp, 53));
        Assert.False(BruteForce.FilterAccepts(forward, Address(network, Alice), Address(network, Carol), PortProtocol.Udp, 53));
        Assert.DoesNotContain("0.0.0.0/0", Filter(network, Jump).Forward!.SelectMany(r => r.Destinations));
    }

    /// <summary>
    /// The filters agents derive enforce exactly the reachability: for random networks and every packet probe,
    /// a jump relays a packet between two tunnel peers iff the rules allow it, and under deny an agent accepts a
    /// packet iff the rules allow it (under allow it accepts everything that can reach it: the jump filtered it).
    /// </summary>
    [Fact]
    public void the_derived_filters_enforce_exactly_the_brute_force_reachability()
    {
        var random = new RandomNetworks(seed: 777);
        var relayedChecks = 0;
        var inputChecks = 0;
        for (var round = 0; round < 300; round++)
        {
            var network = random.Network(maxPeers: 8);
            // Routes would let one address stand for several peers' subnets; the pair rules are what is checked here.
            network = network with { Routes = [], Peers = network.Peers.ConvertAll(p => p with { AdditionalAllowedIps = [] }) };
            var withKeys = network.Peers.Where(p => p.PublicKey is not null && p.Address is not null).ToList();
            if (withKeys.Select(p => p.Address).Distinct().Count() != withKeys.Count) continue;
            foreach (var jump in withKeys.Where(p => p.Kind == PeerKind.Jump && !p.Blocked))
            {
                var forward = PeerFilters.For(network, jump)!.Forward!;
                foreach (var from in withKeys.Where(p => p.Kind != PeerKind.Jump))
                    foreach (var to in withKeys.Where(p => p.Kind != PeerKind.Jump && p.Id != from.Id))
                        foreach (var (protocol, port) in BruteForce.Probes)
                        {
                            var expected = BruteForce.Allowed(network, from, to, protocol, port);
                            Assert.True(expected == BruteForce.FilterAccepts(forward, from.Address, to.Address, protocol, port),
                                $"round {round}: jump {jump.Name} relaying {from.Name} → {to.Name} {protocol}/{port}: expected {expected}");
                            relayedChecks++;
                        }
            }
            foreach (var to in withKeys.Where(p => p.Kind != PeerKind.Static && !p.Blocked))
            {
                var input = PeerFilters.For(network, to)!.Input;
                foreach (var from in withKeys.Where(p => p.Id != to.Id && ConfigBuilder.IsUsable(p)))
                    foreach (var (protocol, port) in BruteForce.Probes)
                    {
                        var expected = BruteForce.Allowed(network, from, to, protocol, port);
                        var accepted = BruteForce.FilterAccepts(input, from.Address, to.Address, protocol, port);
                        if (expected) Assert.True(accepted, $"round {round}: {to.Name} drops allowed {from.Name} {protocol}/{port}");
                        if (network.DefaultPolicy == DefaultPolicy.Deny || to.Isolated)
                            Assert.True(expected == accepted, $"round {round}: {to.Name} accepts {from.Name} {protocol}/{port}: expected {expected}; to {to.Kind} iso {to.Isolated}, from {from.Kind} iso {from.Isolated} blocked {from.Blocked}; default {network.DefaultPolicy}; input {string.Join(" | ", input.Select(r => r.Action + " " + string.Join(",", r.Sources) + " " + string.Join(",", r.Ports)))}; from {from.Address}");
                        inputChecks++;
                    }
            }
        }
        Assert.True(relayedChecks > 20_000 && inputChecks > 20_000, $"{relayedChecks} relayed, {inputChecks} input checks: the generator is too tame");
    }

    private sealed class RuleComparer : IEqualityComparer<AgentFilterRule>
    {
        public static readonly RuleComparer Instance = new();

        public bool Equals(AgentFilterRule? x, AgentFilterRule? y) => x is not null && y is not null && x.Action == y.Action
            && x.Sources.SequenceEqual(y.Sources) && x.Destinations.SequenceEqual(y.Destinations) && x.Ports.SequenceEqual(y.Ports);

        public int GetHashCode(AgentFilterRule obj) => obj.Action.GetHashCode(StringComparison.Ordinal);
    }
}
