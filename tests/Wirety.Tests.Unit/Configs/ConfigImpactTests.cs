using Wirety.Events.Peers;
using Wirety.Events.Segmentation;
using Wirety.Projections.Configs;
using Wirety.Projections.Networks;
using static Wirety.Tests.Unit.TestNetwork;

namespace Wirety.Tests.Unit.Configs;

public class ConfigImpactTests
{
    private static readonly Guid Jump = PeerId(1), Alice = PeerId(2), Bob = PeerId(3), Printer = PeerId(4), Pending = PeerId(5);

    private static Network Mesh() => Create()
        .AddPeer(Jump, "jump", PeerKind.Jump, Key(1), "jump.example.net:51820")
        .AddPeer(Alice, "alice", PeerKind.Dynamic, Key(2), "203.0.113.2:51820")
        .AddPeer(Bob, "bob", PeerKind.Dynamic, Key(3), "203.0.113.3:51820")
        .AddPeer(Printer, "printer", PeerKind.Static, Key(4))
        .AddPeer(Pending, "pending", PeerKind.Dynamic);

    /// <summary>Model and entry ids: everything a config consists of, in comparable form.</summary>
    private static string Fingerprint(Network network, Guid peerId)
    {
        var model = ConfigBuilder.Build(network, peerId);
        return WgQuickRenderer.Render(model) + string.Join(",", model.Peers.Select(e => e.PeerId))
            + AgentConfigMapper.Serialize(AgentConfigMapper.From(model, 0, HostRules.For(network, peerId)));
    }

    [Fact]
    public void a_change_of_network_settings_affects_every_peer()
    {
        var before = Mesh();
        var after = before with { Mtu = 1280 };

        Assert.Equal(after.Peers.Select(p => p.Id).ToHashSet(), ConfigImpact.AffectedPeers(before, after, [], true));
    }

    [Fact]
    public void a_change_to_a_jump_affects_every_peer()
    {
        var before = Mesh();

        Assert.Equal(5, ConfigImpact.AffectedPeers(before, before.Block(Jump), [Jump], false).Count);
    }

    [Fact]
    public void a_change_to_a_peer_with_routes_behind_it_affects_every_peer()
    {
        var before = Mesh();
        var after = before.WithPeer(Printer, p => p with { AdditionalAllowedIps = ["192.168.4.0/24"] });

        Assert.Equal(5, ConfigImpact.AffectedPeers(before, after, [Printer], false).Count);
    }

    [Fact]
    public void renaming_a_static_peer_affects_only_it_and_the_jumps()
    {
        var before = Mesh();
        var after = before.WithPeer(Printer, p => p with { Name = "printer-2" });

        Assert.Equal([Jump, Printer], ConfigImpact.AffectedPeers(before, after, [Printer], false).Order());
    }

    [Fact]
    public void blocking_a_meshed_dynamic_peer_affects_the_jumps_and_the_dynamic_mesh_but_not_static_peers()
    {
        var before = Mesh();

        Assert.Equal([Jump, Alice, Bob, Pending], ConfigImpact.AffectedPeers(before, before.Block(Alice), [Alice], false).Order());
    }

    [Fact]
    public void a_change_to_a_peer_nobody_can_list_affects_only_itself()
    {
        var before = Mesh();
        var after = before.WithPeer(Pending, p => p with { Name = "still-pending" });

        Assert.Equal([Pending], ConfigImpact.AffectedPeers(before, after, [Pending], false));
    }

    [Fact]
    public void a_removed_peer_is_not_in_the_result_and_a_deleted_network_affects_nobody()
    {
        var before = Mesh();

        Assert.DoesNotContain(Alice, ConfigImpact.AffectedPeers(before, before.Remove(Alice), [Alice], false));
        Assert.Empty(ConfigImpact.AffectedPeers(before, null, [], false));
    }

    [Fact]
    public void a_new_network_affects_all_its_peers() =>
        Assert.Equal(5, ConfigImpact.AffectedPeers(null, Mesh(), [], false).Count);

    /// <summary>
    /// The projection relies on this: any config that differs after a random single change must be
    /// in the affected set. Also checks that the set is usually smaller than the whole network,
    /// otherwise the optimisation would be pointless.
    /// </summary>
    [Fact]
    public void the_affected_set_contains_every_peer_whose_config_changed_after_random_single_changes()
    {
        var random = new RandomNetworks(seed: 1337);
        var narrower = 0;
        var changed = 0;
        const int rounds = 4_000;
        for (var i = 0; i < rounds; i++)
        {
            var before = random.Network(maxPeers: 10);
            var (after, touched) = random.Change(before);

            var affected = ConfigImpact.AffectedPeers(before, after, [touched], networkSettingsChanged: false);

            Assert.All(affected, id => Assert.NotNull(after.FindPeer(id)));
            foreach (var peer in after.Peers)
            {
                var was = before.FindPeer(peer.Id) is null ? null : Fingerprint(before, peer.Id);
                if (was == Fingerprint(after, peer.Id)) continue;
                changed++;
                Assert.True(affected.Contains(peer.Id),
                    $"round {i}: config of {peer.Name} changed after touching {touched} but was not reported");
            }
            if (affected.Count < after.Peers.Count) narrower++;
        }
        Assert.True(changed > rounds / 2, $"only {changed} configs changed: the generator is too tame");
        Assert.True(narrower > rounds / 4, $"only {narrower} of {rounds} changes affected fewer than all peers");
    }

    /// <summary>The same property for group and policy changes: every config they alter is in the reported set.</summary>
    [Fact]
    public void the_affected_set_of_a_group_or_policy_change_contains_every_peer_whose_config_changed()
    {
        var random = new RandomNetworks(seed: 9001);
        var changed = 0;
        var narrower = 0;
        const int rounds = 3_000;
        for (var i = 0; i < rounds; i++)
        {
            var before = random.Network(maxPeers: 10);
            if (random.SegmentationChange(before) is not { } change) continue;
            var after = NetworkEvolution.Evolve(before, change)!;

            // Null (every peer) only where a deleted group was a route's audience: the route then goes to everyone.
            var affected = ConfigImpact.AffectedBySegmentation(before, after, change);
            if (affected is null)
            {
                Assert.True(change is GroupDeleted g && before.Routes.Any(r => r.Groups.Contains(g.GroupId)), $"{change.GetType().Name} answered 'every peer'");
                continue;
            }
            foreach (var peer in after.Peers)
            {
                if (Fingerprint(before, peer.Id) == Fingerprint(after, peer.Id)) continue;
                changed++;
                Assert.True(affected.Contains(peer.Id), $"round {i}: {change.GetType().Name} changed the config of {peer.Name} but did not report it");
            }
            if (affected.Count < after.Peers.Count) narrower++;
        }
        Assert.True(changed > rounds / 4, $"only {changed} configs changed: the generator is too tame");
        Assert.True(narrower > rounds / 4, $"only {narrower} of {rounds} changes affected fewer than all peers");
    }
}
