using System.Collections.Immutable;
using Wirety.Projections.Configs;

namespace Wirety.Tests.Unit.Configs;

/// <summary>
/// The shared-work renderer (mesh members' agent JSON spliced from entries serialized once) must serve
/// exactly the bytes, ETag and version the straightforward rendering does, for every peer.
/// </summary>
public sealed class ConfigRendererTests
{
    [Fact]
    public void every_config_is_byte_identical_to_the_straightforward_rendering_in_random_networks()
    {
        var random = new RandomNetworks(seed: 9001);
        var spliced = 0;
        for (var round = 0; round < 1_500; round++)
        {
            var network = random.Network(maxPeers: 12);
            if (round % 3 != 0) // mostly without routes behind peers, where splicing applies
                network = network with { Peers = network.Peers.Select(p => p with { AdditionalAllowedIps = [] }).ToImmutableList() };
            var stamps = network.Peers.Select((p, i) => (p.Id, new PeerConfigStamp(10 + i % 3, "x"))).ToDictionary(x => x.Id, x => x.Item2);
            var source = new ConfigSource(network.Id, 20, network, stamps);
            var renderer = new ConfigRenderer(source);
            foreach (var peer in network.Peers)
                foreach (var format in new[] { ConfigFormat.Agent, ConfigFormat.WgQuick })
                {
                    var expected = ConfigRendering.Render(source, peer.Id, format)!;
                    var actual = renderer.Render(peer.Id, format)!;
                    Assert.True(expected.Body.AsSpan().SequenceEqual(actual.Body),
                        $"round {round}, {peer.Name} ({format}):\n{System.Text.Encoding.UTF8.GetString(expected.Body)}\n---\n{System.Text.Encoding.UTF8.GetString(actual.Body)}");
                    Assert.Equal(expected.ETag, actual.ETag);
                    Assert.Equal(expected.Version, actual.Version);
                    if (format == ConfigFormat.Agent && peer.Kind == Wirety.Events.Peers.PeerKind.Dynamic && !peer.Blocked && !peer.Isolated
                        && peer.PublicKey is not null && peer.ReachableEndpoint is not null) spliced++;
                }
            Assert.Null(renderer.Render(Guid.NewGuid(), ConfigFormat.Agent));
        }
        Assert.True(spliced > 1_000, $"only {spliced} configs took the spliced path");
    }
}
