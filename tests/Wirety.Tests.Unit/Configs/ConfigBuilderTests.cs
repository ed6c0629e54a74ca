using Wirety.Events.Peers;
using Wirety.Projections.Configs;
using Wirety.Projections.Networks;
using static Wirety.Tests.Unit.TestNetwork;

namespace Wirety.Tests.Unit.Configs;

/// <summary>One or more tests per rule of DESIGN.md's "Config rules", plus invariants over random networks.</summary>
public class ConfigBuilderTests
{
    // Network 10.10.0.0/24; addresses are handed out lowest-free in the order peers are added.
    private static readonly Guid JumpA = PeerId(1), JumpB = PeerId(2), Alice = PeerId(3), Bob = PeerId(4), Carol = PeerId(5);

    /// <summary>Two enrolled jumps, then alice and bob: dynamic, enrolled, endpoints known.</summary>
    private static Network Mesh() => Create()
        .AddPeer(JumpA, "jump-a", PeerKind.Jump, Key(1), "jump-a.example.net:51820", 51820)
        .AddPeer(JumpB, "jump-b", PeerKind.Jump, Key(2), "jump-b.example.net:51820", 51820)
        .AddPeer(Alice, "alice", PeerKind.Dynamic, Key(3), "203.0.113.3:51820", 51820)
        .AddPeer(Bob, "bob", PeerKind.Dynamic, Key(4), "203.0.113.4:51820", 51820);

    private static PeerEntry? EntryFor(PeerConfigModel config, Guid peerId) =>
        config.Peers.SingleOrDefault(e => e.PeerId == peerId);

    private static IReadOnlyList<Guid> EntryIds(PeerConfigModel config) => [.. config.Peers.Select(e => e.PeerId)];

    // ── [Interface] ──────────────────────────────────────────────────────────

    [Fact]
    public void the_interface_has_the_peer_address_as_32_its_listen_port_dns_then_domain_and_mtu()
    {
        var network = Create(dns: ["10.10.0.53", "1.1.1.1"], domain: "corp.internal", mtu: 1380)
            .AddPeer(Alice, "alice", PeerKind.Dynamic, Key(3), listenPort: 51821);

        var @interface = ConfigBuilder.Build(network, Alice).Interface;

        Assert.Equal("10.10.0.1/32", @interface.Address);
        Assert.Equal(51821, @interface.ListenPort);
        Assert.Equal(["10.10.0.53", "1.1.1.1", "corp.internal"], @interface.Dns);
        Assert.Equal(1380, @interface.Mtu);
    }

    [Fact]
    public void the_interface_leaves_out_what_the_network_and_peer_do_not_set()
    {
        var network = Create().AddPeer(Alice, "alice", PeerKind.Dynamic, Key(3));

        var @interface = ConfigBuilder.Build(network, Alice).Interface;

        Assert.Null(@interface.ListenPort);
        Assert.Empty(@interface.Dns);
        Assert.Null(@interface.Mtu);
    }

    [Fact]
    public void building_the_config_of_a_peer_not_in_the_network_is_refused() =>
        Assert.Throws<ArgumentException>(() => ConfigBuilder.Build(Mesh(), PeerId(99)));

    // ── Jump entries ─────────────────────────────────────────────────────────

    [Fact]
    public void every_peer_has_an_entry_for_each_jump_with_its_endpoint_and_keepalive_25()
    {
        var config = ConfigBuilder.Build(Mesh(), Alice);

        Assert.Equal([JumpA, JumpB, Bob], EntryIds(config));
        Assert.All(config.Peers, e => Assert.Equal(25, e.PersistentKeepalive));
        Assert.Equal("jump-a.example.net:51820", EntryFor(config, JumpA)!.Endpoint);
        Assert.Equal("jump-b.example.net:51820", EntryFor(config, JumpB)!.Endpoint);
    }

    [Fact]
    public void the_primary_jump_carries_the_network_cidr_and_a_secondary_jump_its_32()
    {
        var config = ConfigBuilder.Build(Mesh(), Alice);

        Assert.Equal(["10.10.0.0/24"], EntryFor(config, JumpA)!.AllowedIps);
        Assert.Equal(["10.10.0.2/32"], EntryFor(config, JumpB)!.AllowedIps);
    }

    [Fact]
    public void the_primary_jump_is_the_earliest_created_jump_that_is_enrolled_and_not_blocked()
    {
        var unenrolledFirst = Mesh().WithPeer(JumpA, p => p with { PublicKey = null });
        var blockedFirst = Mesh().Block(JumpA);

        Assert.Equal(["10.10.0.0/24"], EntryFor(ConfigBuilder.Build(unenrolledFirst, Alice), JumpB)!.AllowedIps);
        Assert.Equal(["10.10.0.0/24"], EntryFor(ConfigBuilder.Build(blockedFirst, Alice), JumpB)!.AllowedIps);
    }

    [Fact]
    public void a_secondary_jump_carries_the_routes_behind_it()
    {
        var network = Mesh().WithPeer(JumpB, p => p with { AdditionalAllowedIps = ["172.20.0.0/16"] });

        Assert.Equal(["10.10.0.2/32", "172.20.0.0/16"], EntryFor(ConfigBuilder.Build(network, Alice), JumpB)!.AllowedIps);
    }

    [Fact]
    public void a_fully_encapsulated_peer_routes_everything_through_the_primary_jump()
    {
        var network = Mesh().WithPeer(Alice, p => p with { FullEncapsulation = true });

        var config = ConfigBuilder.Build(network, Alice);

        Assert.Equal(["0.0.0.0/0", "::/0"], EntryFor(config, JumpA)!.AllowedIps);
        Assert.Equal(["10.10.0.2/32"], EntryFor(config, JumpB)!.AllowedIps);
        Assert.Equal(["10.10.0.4/32"], EntryFor(config, Bob)!.AllowedIps); // direct tunnels stay: longer prefix
    }

    [Fact]
    public void an_isolated_peer_reaches_the_jumps_only_by_their_32()
    {
        var network = Mesh()
            .WithPeer(Alice, p => p with { Isolated = true })
            .WithPeer(JumpB, p => p with { AdditionalAllowedIps = ["172.20.0.0/16"] })
            .WithPeer(Bob, p => p with { AdditionalAllowedIps = ["192.168.4.0/24"] });

        var config = ConfigBuilder.Build(network, Alice);

        Assert.Equal([JumpA, JumpB], EntryIds(config));
        Assert.Equal(["10.10.0.1/32"], EntryFor(config, JumpA)!.AllowedIps);
        Assert.Equal(["10.10.0.2/32"], EntryFor(config, JumpB)!.AllowedIps);
    }

    [Fact]
    public void an_isolated_fully_encapsulated_peer_gets_the_default_routes_on_the_primary_jump()
    {
        var network = Mesh().WithPeer(Alice, p => p with { Isolated = true, FullEncapsulation = true });

        var config = ConfigBuilder.Build(network, Alice);

        Assert.Equal(["10.10.0.1/32", "0.0.0.0/0", "::/0"], EntryFor(config, JumpA)!.AllowedIps);
        Assert.Equal(["10.10.0.2/32"], EntryFor(config, JumpB)!.AllowedIps);
    }

    [Fact]
    public void without_a_usable_jump_enrolled_dynamic_peers_still_mesh_directly()
    {
        var network = Mesh().Block(JumpA).WithPeer(JumpB, p => p with { PublicKey = null });

        Assert.Equal([Bob], EntryIds(ConfigBuilder.Build(network, Alice)));
    }

    // ── Direct (mesh) entries ────────────────────────────────────────────────

    [Fact]
    public void two_dynamic_peers_with_known_endpoints_list_each_other_directly()
    {
        var network = Mesh();

        var bobInAlice = EntryFor(ConfigBuilder.Build(network, Alice), Bob)!;
        var aliceInBob = EntryFor(ConfigBuilder.Build(network, Bob), Alice)!;

        Assert.Equal(("203.0.113.4:51820", 25), (bobInAlice.Endpoint, bobInAlice.PersistentKeepalive));
        Assert.Equal(["10.10.0.4/32"], bobInAlice.AllowedIps);
        Assert.Equal(("203.0.113.3:51820", 25), (aliceInBob.Endpoint, aliceInBob.PersistentKeepalive));
        Assert.Equal(["10.10.0.3/32"], aliceInBob.AllowedIps);
    }

    [Fact]
    public void a_dynamic_peer_whose_endpoint_is_unknown_is_reached_through_the_jump()
    {
        var network = Mesh().AddPeer(Carol, "carol", PeerKind.Dynamic, Key(5));

        Assert.Null(EntryFor(ConfigBuilder.Build(network, Alice), Carol));
        Assert.Equal([JumpA, JumpB], EntryIds(ConfigBuilder.Build(network, Carol)));
    }

    [Fact]
    public void a_direct_entry_always_has_its_counterpart_so_no_handshake_is_refused()
    {
        // Carol's endpoint is unknown: bob could dial carol's peers, but they would not know carol's key.
        var network = Mesh().AddPeer(Carol, "carol", PeerKind.Dynamic, Key(5));

        var carol = ConfigBuilder.Build(network, Carol);

        Assert.DoesNotContain(carol.Peers, e => e.Kind == PeerKind.Dynamic);
    }

    [Fact]
    public void isolated_dynamic_peers_take_no_part_in_the_direct_mesh()
    {
        var network = Mesh().AddPeer(Carol, "carol", PeerKind.Dynamic, Key(5), "203.0.113.5:51820", isolated: true);

        Assert.Null(EntryFor(ConfigBuilder.Build(network, Alice), Carol));
        Assert.Equal([JumpA, JumpB], EntryIds(ConfigBuilder.Build(network, Carol)));
    }

    [Fact]
    public void static_peers_only_have_jump_entries_and_are_never_listed_directly()
    {
        var network = Mesh().AddPeer(Carol, "carol", PeerKind.Static, Key(5), "203.0.113.5:51820");

        Assert.Equal([JumpA, JumpB], EntryIds(ConfigBuilder.Build(network, Carol)));
        Assert.Null(EntryFor(ConfigBuilder.Build(network, Alice), Carol));
    }

    // ── The jump's own config ────────────────────────────────────────────────

    [Fact]
    public void a_jump_lists_every_usable_peer_with_its_32_and_the_routes_behind_it()
    {
        var network = Mesh()
            .AddPeer(Carol, "carol", PeerKind.Static, Key(5), additionalAllowedIps: ["192.168.5.0/24", "fd00:5::/64"])
            .WithPeer(Bob, p => p with { Isolated = true, FullEncapsulation = true });

        var config = ConfigBuilder.Build(network, JumpA);

        Assert.Equal([JumpB, Alice, Bob, Carol], EntryIds(config));
        Assert.Equal(["10.10.0.2/32"], EntryFor(config, JumpB)!.AllowedIps);
        Assert.Equal(["10.10.0.4/32"], EntryFor(config, Bob)!.AllowedIps);
        Assert.Equal(["10.10.0.5/32", "192.168.5.0/24", "fd00:5::/64"], EntryFor(config, Carol)!.AllowedIps);
    }

    [Fact]
    public void a_jump_dials_other_jumps_but_waits_for_everyone_else()
    {
        var config = ConfigBuilder.Build(Mesh(), JumpB);

        var jumpA = EntryFor(config, JumpA)!;
        Assert.Equal(("jump-a.example.net:51820", 25), (jumpA.Endpoint, jumpA.PersistentKeepalive));
        Assert.All(config.Peers.Where(e => e.Kind != PeerKind.Jump), e =>
        {
            Assert.Null(e.Endpoint);
            Assert.Null(e.PersistentKeepalive);
        });
    }

    // ── additionalAllowedIps ─────────────────────────────────────────────────

    [Fact]
    public void routes_behind_a_peer_ride_on_its_direct_entry_where_it_is_reached_directly()
    {
        var network = Mesh().WithPeer(Bob, p => p with { AdditionalAllowedIps = ["192.168.4.0/24"] });

        var alice = ConfigBuilder.Build(network, Alice);

        Assert.Equal(["10.10.0.4/32", "192.168.4.0/24"], EntryFor(alice, Bob)!.AllowedIps);
        Assert.Equal(["10.10.0.0/24"], EntryFor(alice, JumpA)!.AllowedIps);
    }

    [Fact]
    public void routes_behind_a_peer_ride_on_the_primary_jump_where_it_is_reached_through_it()
    {
        var network = Mesh()
            .WithPeer(Bob, p => p with { AdditionalAllowedIps = ["192.168.4.0/24"] })
            .WithPeer(JumpA, p => p with { AdditionalAllowedIps = ["172.31.0.0/16"] })
            .AddPeer(Carol, "carol", PeerKind.Static, Key(5), additionalAllowedIps: ["192.168.5.0/24"]);

        var carol = ConfigBuilder.Build(network, Carol);

        Assert.Equal(["10.10.0.0/24", "172.31.0.0/16", "192.168.4.0/24"], EntryFor(carol, JumpA)!.AllowedIps);
        // Alice reaches bob directly and carol through the jump.
        Assert.Equal(["10.10.0.0/24", "172.31.0.0/16", "192.168.5.0/24"], EntryFor(ConfigBuilder.Build(network, Alice), JumpA)!.AllowedIps);
    }

    [Fact]
    public void routes_behind_blocked_or_unenrolled_peers_are_not_routed_anywhere()
    {
        var network = Mesh()
            .AddPeer(Carol, "carol", PeerKind.Dynamic, additionalAllowedIps: ["192.168.5.0/24"])
            .AddPeer(PeerId(6), "dave", PeerKind.Static, Key(6), additionalAllowedIps: ["192.168.6.0/24"])
            .Block(PeerId(6));

        Assert.Equal(["10.10.0.0/24"], EntryFor(ConfigBuilder.Build(network, Alice), JumpA)!.AllowedIps);
    }

    [Fact]
    public void a_prefix_claimed_by_two_peers_goes_to_the_first_entry_only()
    {
        var network = Mesh()
            .WithPeer(JumpB, p => p with { AdditionalAllowedIps = ["192.168.9.0/24"] })
            .WithPeer(Bob, p => p with { AdditionalAllowedIps = ["192.168.9.0/24", "0.0.0.0/0"] })
            .WithPeer(Alice, p => p with { FullEncapsulation = true });

        var alice = ConfigBuilder.Build(network, Alice);

        Assert.Equal(["0.0.0.0/0", "::/0"], EntryFor(alice, JumpA)!.AllowedIps);
        Assert.Equal(["10.10.0.2/32", "192.168.9.0/24"], EntryFor(alice, JumpB)!.AllowedIps);
        Assert.Equal(["10.10.0.4/32"], EntryFor(alice, Bob)!.AllowedIps);
    }

    [Fact]
    public void a_peer_reached_directly_keeps_its_routes_even_if_a_relayed_peer_claims_them_too()
    {
        var network = Mesh()
            .AddPeer(Carol, "carol", PeerKind.Static, Key(5), additionalAllowedIps: ["192.168.9.0/24"])
            .WithPeer(Bob, p => p with { AdditionalAllowedIps = ["192.168.9.0/24"] });

        var alice = ConfigBuilder.Build(network, Alice);

        Assert.Equal(["10.10.0.0/24"], EntryFor(alice, JumpA)!.AllowedIps);
        Assert.Equal(["10.10.0.4/32", "192.168.9.0/24"], EntryFor(alice, Bob)!.AllowedIps);
    }

    [Fact]
    public void malformed_routes_that_reached_the_state_are_left_out_rather_than_break_the_file()
    {
        var network = Mesh().WithPeer(Bob, p => p with { AdditionalAllowedIps = ["not-a-prefix", "192.168.4.1/24", "192.168.4.0/24"] });

        Assert.Equal(["10.10.0.4/32", "192.168.4.0/24"], EntryFor(ConfigBuilder.Build(network, Alice), Bob)!.AllowedIps);
    }

    // ── Blocking and enrollment ──────────────────────────────────────────────

    [Fact]
    public void a_peer_without_a_public_key_appears_in_no_other_config()
    {
        var network = Mesh().AddPeer(Carol, "carol", PeerKind.Dynamic, endpoint: "203.0.113.5:51820");

        Assert.All(network.Peers.Where(p => p.Id != Carol),
            p => Assert.Null(EntryFor(ConfigBuilder.Build(network, p.Id), Carol)));
        Assert.Equal([JumpA, JumpB], EntryIds(ConfigBuilder.Build(network, Carol))); // its own config still works
    }

    [Fact]
    public void a_blocked_peer_appears_in_no_other_config()
    {
        var network = Mesh().Block(Bob);

        Assert.All(network.Peers.Where(p => p.Id != Bob),
            p => Assert.Null(EntryFor(ConfigBuilder.Build(network, p.Id), Bob)));
    }

    [Fact]
    public void a_blocked_peer_config_lists_no_peers()
    {
        var network = Mesh().Block(Bob).Block(JumpB);

        Assert.Empty(ConfigBuilder.Build(network, Bob).Peers);
        Assert.Empty(ConfigBuilder.Build(network, JumpB).Peers);
        Assert.Equal("10.10.0.4/32", ConfigBuilder.Build(network, Bob).Interface.Address);
    }

    [Fact]
    public void unblocking_restores_every_config_as_it_was()
    {
        var network = Mesh();
        var restored = network.Block(Bob).Unblock(Bob);

        Assert.All(network.Peers, p => Assert.Equal(
            WgQuickRenderer.Render(ConfigBuilder.Build(network, p.Id)),
            WgQuickRenderer.Render(ConfigBuilder.Build(restored, p.Id))));
    }

    // ── Determinism and invariants over random networks ─────────────────────

    [Fact]
    public void the_same_events_give_byte_identical_configs()
    {
        var first = new RandomNetworks(seed: 11).Network();
        var second = new RandomNetworks(seed: 11).Network();

        Assert.All(first.Peers, p => Assert.Equal(
            WgQuickRenderer.Render(ConfigBuilder.Build(first, p.Id)),
            WgQuickRenderer.Render(ConfigBuilder.Build(second, p.Id))));
    }

    [Fact]
    public void random_networks_keep_every_config_rule_invariant()
    {
        var random = new RandomNetworks(seed: 20261122);
        for (var i = 0; i < 1_500; i++)
        {
            var network = random.Network(maxPeers: 12);
            var configs = network.Peers.ToDictionary(p => p.Id, p => ConfigBuilder.Build(network, p.Id));

            foreach (var (viewerId, config) in configs)
            {
                var viewer = network.FindPeer(viewerId)!;
                var entryPeers = config.Peers.Select(e => network.FindPeer(e.PeerId)!).ToList();

                Assert.DoesNotContain(viewerId, config.Peers.Select(e => e.PeerId));
                Assert.Equal(config.Peers.Count, config.Peers.Select(e => e.PeerId).Distinct().Count());
                // One prefix, one entry.
                var prefixes = config.Peers.SelectMany(e => e.AllowedIps).ToList();
                Assert.Equal(prefixes.Count, prefixes.Distinct().Count());
                // Blocked and unenrolled peers are nowhere; a blocked viewer sees nobody.
                Assert.All(entryPeers, p => Assert.True(p.PublicKey is not null && !p.Blocked));
                if (viewer.Blocked) Assert.Empty(config.Peers);
                // Jumps first, then others, each in creation order.
                var order = entryPeers.Select(p => (p.Kind == PeerKind.Jump ? 0 : 1, network.Peers.IndexOf(p))).ToList();
                Assert.Equal(order.Order(), order);
                // Non-jump peers reach only jumps unless both ends are meshed dynamic peers, which list each other.
                if (viewer.Kind != PeerKind.Jump)
                {
                    foreach (var other in entryPeers.Where(p => p.Kind != PeerKind.Jump))
                    {
                        Assert.Equal(PeerKind.Dynamic, viewer.Kind);
                        Assert.False(viewer.Isolated || other.Isolated);
                        Assert.Equal(PeerKind.Dynamic, other.Kind);
                        Assert.Contains(viewerId, configs[other.Id].Peers.Select(e => e.PeerId));
                    }
                }
                // An enrolled peer that lists a jump is listed by that jump.
                if (viewer.PublicKey is not null)
                    foreach (var jump in entryPeers.Where(p => p.Kind == PeerKind.Jump))
                        Assert.Contains(viewerId, configs[jump.Id].Peers.Select(e => e.PeerId));
            }
        }
    }
}
