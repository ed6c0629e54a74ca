using System.Collections.Immutable;
using Wirety.Projections.Configs;
using Wirety.Projections.Networks;

namespace Wirety.Tests.Unit.Configs;

/// <summary>
/// The fingerprints that decide whose config a change altered (and so who gets config-changed and a new
/// version): the O(N) shortcut must equal fingerprinting the built config, and equal fingerprints must
/// mean equal served content.
/// </summary>
public sealed class ConfigFingerprintTests
{
    [Fact]
    public void the_fast_fingerprints_equal_those_of_the_built_configs_in_random_networks()
    {
        var random = new RandomNetworks(seed: 4242);
        var fast = 0;
        for (var round = 0; round < 2_000; round++)
        {
            var network = random.Network(maxPeers: 12);
            // Most random networks have routes behind some peer (the built path); strip them half the time
            // so the shortcut (no routes anywhere) is exercised as often.
            if (round % 2 == 0)
            {
                network = network with { Peers = network.Peers.Select(p => p with { AdditionalAllowedIps = [] }).ToImmutableList() };
                fast++;
            }
            var ids = network.Peers.Select(p => p.Id).ToList();
            foreach (var (peerId, fingerprint) in ConfigBuilder.Fingerprints(network, ids))
                Assert.True(Built(network, peerId) == fingerprint, $"round {round}: fingerprint of {network.FindPeer(peerId)!.Name} differs");
        }
        Assert.True(fast >= 1_000);
    }

    [Fact]
    public void a_fingerprint_changes_exactly_when_the_served_config_changes()
    {
        var random = new RandomNetworks(seed: 77);
        var changed = 0;
        var unchanged = 0;
        for (var round = 0; round < 2_000; round++)
        {
            var before = random.Network(maxPeers: 10);
            var (after, _) = random.Change(before);
            var ids = after.Peers.Where(p => before.FindPeer(p.Id) is not null).Select(p => p.Id).ToList();
            var was = ConfigBuilder.Fingerprints(before, ids).ToDictionary();
            foreach (var (peerId, fingerprint) in ConfigBuilder.Fingerprints(after, ids))
            {
                var sameContent = Served(before, peerId) == Served(after, peerId);
                Assert.True(sameContent == (was[peerId] == fingerprint), $"round {round}: peer {after.FindPeer(peerId)!.Name}, same content {sameContent}");
                if (sameContent) unchanged++;
                else changed++;
            }
        }
        Assert.True(changed > 500 && unchanged > 500, $"{changed} changed, {unchanged} unchanged: the generator is too tame");
    }

    private static string Built(Network network, Guid peerId) =>
        ConfigFingerprint.Of(ConfigBuilder.Build(network, peerId), HostRules.For(network, peerId));

    /// <summary>Everything served for the peer except the version: the wg-quick text and the agent JSON.</summary>
    private static string Served(Network network, Guid peerId)
    {
        var model = ConfigBuilder.Build(network, peerId);
        return WgQuickRenderer.Render(model) + "\n---\n"
            + AgentConfigMapper.Serialize(AgentConfigMapper.From(model, 0, HostRules.For(network, peerId)));
    }
}
