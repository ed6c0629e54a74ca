using System.Text.Json;
using Wirety.Events.Agent;
using Wirety.Events.Peers;
using Wirety.Projections.Configs;
using Wirety.Projections.Networks;
using Wirety.Tests.Unit.Configs;

namespace Wirety.Tests.Unit.AgentDeltas;

public sealed class AgentConfigDiffTests
{
    private static readonly Guid Jump = TestNetwork.PeerId(1), A = TestNetwork.PeerId(2), B = TestNetwork.PeerId(3), C = TestNetwork.PeerId(4);

    private static Network Mesh() => TestNetwork.Create()
        .AddPeer(Jump, "hub", PeerKind.Jump, key: TestNetwork.Key(1), endpoint: "198.51.100.1:51820", listenPort: 51820)
        .AddPeer(A, "a", PeerKind.Dynamic, key: TestNetwork.Key(2))
        .AddPeer(B, "b", PeerKind.Dynamic, key: TestNetwork.Key(3))
        .WithPeer(A, p => p with { ObservedEndpoint = "198.51.100.2:51820" })
        .WithPeer(B, p => p with { ObservedEndpoint = "198.51.100.3:51820" });

    private static AgentConfig Config(Network network, Guid peerId, long version = 1) =>
        AgentConfigMapper.From(ConfigBuilder.Build(network, peerId), version, HostRules.For(network, peerId));

    [Fact]
    public void every_entry_carries_its_peer_id()
    {
        var config = Config(Mesh(), A);
        Assert.Equal([Jump, B], config.Peers.Select(p => p.Id!.Value));
    }

    [Fact]
    public void blocking_a_mesh_partner_removes_its_entry_with_its_old_key()
    {
        var before = Mesh();
        var steps = AgentConfigDiff.Between(Config(before, A), Config(before.Block(B), A, 2), 16)!;
        var step = Assert.Single(steps);
        Assert.Equal(AgentDeltaTypes.PeerRemoved, step.Type);
        var change = JsonSerializer.Deserialize(step.PayloadJson, AgentProtocolJson.Default.AgentPeerChange)!;
        Assert.Equal(new AgentPeerChange(B, null, TestNetwork.Key(3)), change);
    }

    [Fact]
    public void a_new_key_for_the_same_peer_is_a_key_rotation_and_a_new_endpoint_an_update()
    {
        var before = Mesh();
        var after = before.WithPeer(B, p => p with { PublicKey = TestNetwork.Key(33), ObservedEndpoint = "198.51.100.33:51820" })
            .WithPeer(Jump, p => p with { Endpoint = "198.51.100.9:51820" });
        var steps = AgentConfigDiff.Between(Config(before, A), Config(after, A, 2), 16)!;
        Assert.Equal([AgentDeltaTypes.PeerKeyRotated, AgentDeltaTypes.PeerUpdated], steps.Select(s => s.Type));
        var rotated = JsonSerializer.Deserialize(steps[0].PayloadJson, AgentProtocolJson.Default.AgentPeerChange)!;
        Assert.Equal(TestNetwork.Key(3), rotated.PublicKey);
        Assert.Equal(TestNetwork.Key(33), rotated.Peer!.PublicKey);
    }

    [Fact]
    public void equal_configs_need_no_step_and_a_settings_change_is_an_interface_change()
    {
        var network = Mesh();
        Assert.Empty(AgentConfigDiff.Between(Config(network, A), Config(network, A, 7), 16)!);
        var steps = AgentConfigDiff.Between(Config(network, A), Config(network with { Mtu = 1280 }, A, 2), 16)!;
        Assert.Equal(AgentDeltaTypes.InterfaceChanged, Assert.Single(steps).Type);
    }

    [Fact]
    public void a_forwarding_change_or_too_many_steps_or_entries_without_ids_need_the_whole_config()
    {
        var network = Mesh();
        // The jump's forwarding (NAT for fully encapsulated peers) changes when a peer becomes one.
        var encapsulated = network.WithPeer(A, p => p with { FullEncapsulation = true });
        Assert.Null(AgentConfigDiff.Between(Config(network, Jump), Config(encapsulated, Jump, 2), 16));

        var grown = network.AddPeer(C, "c", PeerKind.Dynamic, key: TestNetwork.Key(4)).WithPeer(C, p => p with { ObservedEndpoint = "198.51.100.4:51820" });
        Assert.NotNull(AgentConfigDiff.Between(Config(network, A), Config(grown, A, 2), 1));
        Assert.Null(AgentConfigDiff.Between(Config(network, A), Config(grown.Remove(B), A, 2), 1));

        var old = Config(network, A);
        Assert.Null(AgentConfigDiff.Between(old with { Peers = old.Peers.Select(p => p with { Id = null }).ToList() }, Config(grown, A, 2), 16));
    }

    /// <summary>
    /// On random networks and random single changes (peers and segmentation), for every peer in both states: the
    /// steps applied to the old config as an agent applies them give exactly the new config, or the diff asks for the
    /// whole config only where the kind, forwarding or filter changed.
    /// </summary>
    [Fact]
    public void applying_the_steps_to_the_old_config_gives_the_new_one_on_random_networks()
    {
        var random = new RandomNetworks(seed: 4242);
        var seen = new Dictionary<string, int>();
        for (var i = 0; i < 3_000; i++)
        {
            var before = random.Network(maxPeers: 10);
            var after = i % 3 == 0 && random.SegmentationChange(before) is { } e ? NetworkEvolution.Evolve(before, e)! : random.Change(before).After;
            foreach (var peer in after.Peers.Where(p => before.FindPeer(p.Id) is not null))
            {
                var (old, @new) = (Config(before, peer.Id, 1), Config(after, peer.Id, 2));
                var steps = AgentConfigDiff.Between(old, @new, int.MaxValue);
                if (steps is null)
                {
                    Assert.True(old.Kind != @new.Kind || Json(old.Forwarding) != Json(@new.Forwarding) || Json(old.Filter) != Json(@new.Filter),
                        $"round {i}: the whole config of {peer.Name} was asked for without cause");
                    seen[AgentDeltaTypes.ConfigReplaced] = seen.GetValueOrDefault(AgentDeltaTypes.ConfigReplaced) + 1;
                    continue;
                }
                var applied = steps.Aggregate(old, AgentDeltaApplier.Apply) with { Version = @new.Version };
                Assert.Equal(AgentDeltaApplier.Canonical(@new), AgentDeltaApplier.Canonical(applied));
                foreach (var step in steps) seen[step.Type] = seen.GetValueOrDefault(step.Type) + 1;
            }
        }
        // The generator reaches every kind of step.
        Assert.All(new[] { AgentDeltaTypes.PeerAdded, AgentDeltaTypes.PeerRemoved, AgentDeltaTypes.PeerUpdated, AgentDeltaTypes.PeerKeyRotated,
            AgentDeltaTypes.InterfaceChanged, AgentDeltaTypes.ConfigReplaced }, type => Assert.True(seen.GetValueOrDefault(type) > 10, $"{type}: {seen.GetValueOrDefault(type)}"));
    }

    private static string Json<T>(T value) => JsonSerializer.Serialize(value);
}

/// <summary>What an agent does with the steps (the reference the diff is tested against): by peer id, in order.</summary>
internal static class AgentDeltaApplier
{
    public static AgentConfig Apply(AgentConfig config, AgentDelta step)
    {
        switch (step.Type)
        {
            case AgentDeltaTypes.ConfigReplaced:
                return JsonSerializer.Deserialize(step.PayloadJson, AgentProtocolJson.Default.AgentConfig)!;
            case AgentDeltaTypes.InterfaceChanged:
                return config with { Interface = JsonSerializer.Deserialize(step.PayloadJson, AgentProtocolJson.Default.AgentInterface)! };
        }
        var change = JsonSerializer.Deserialize(step.PayloadJson, AgentProtocolJson.Default.AgentPeerChange)!;
        var peers = config.Peers.ToList();
        var at = peers.FindIndex(p => p.Id == change.PeerId);
        switch (step.Type)
        {
            case AgentDeltaTypes.PeerAdded:
                Assert.Equal(-1, at);
                peers.Add(change.Peer!);
                break;
            case AgentDeltaTypes.PeerRemoved:
                Assert.Equal(change.PublicKey, peers[at].PublicKey);
                peers.RemoveAt(at);
                break;
            case AgentDeltaTypes.PeerKeyRotated:
                Assert.Equal(change.PublicKey, peers[at].PublicKey);
                peers[at] = change.Peer!;
                break;
            case AgentDeltaTypes.PeerUpdated:
                Assert.Equal(peers[at].PublicKey, change.Peer!.PublicKey);
                peers[at] = change.Peer!;
                break;
            default:
                Assert.Fail($"unknown step {step.Type}");
                break;
        }
        return config with { Peers = peers };
    }

    /// <summary>The config's JSON with its entries in peer-id order (WireGuard does not care about their order).</summary>
    public static string Canonical(AgentConfig config) =>
        AgentConfigMapper.Serialize(config with { Peers = config.Peers.OrderBy(p => p.Id).ToList() });
}
