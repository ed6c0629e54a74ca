using Wirety.Events.Peers;
using Wirety.Projections.Configs;
using Wirety.Projections.Networks;

namespace Wirety.Tests.Unit.Configs;

/// <summary>
/// <see cref="ConfigBuilder.StandaloneEntry"/> and <see cref="ConfigBuilder.ChangeStandsAlone"/> against the full
/// <see cref="ConfigBuilder.Build"/> on random networks and random peer changes: the delta protocol sends, for a
/// member viewer of a change that stands alone, only that entry, so anything else differing would be lost.
/// </summary>
public class StandaloneEntryTests
{
    [Fact]
    public void a_standalone_entry_is_the_entry_the_full_config_holds()
    {
        var random = new RandomNetworks(seed: 1515);
        var checkedEntries = 0;
        for (var round = 0; round < 600; round++)
        {
            var network = Independent(random.Network(maxPeers: 12));
            if (!ConfigBuilder.HasIndependentEntries(network)) continue;
            foreach (var viewer in network.Peers)
            {
                var entries = ConfigBuilder.Build(network, viewer.Id).Peers.ToDictionary(e => e.PeerId);
                foreach (var peer in network.Peers.Where(p => p.Kind != PeerKind.Jump))
                {
                    var expected = entries.GetValueOrDefault(peer.Id);
                    var actual = ConfigBuilder.StandaloneEntry(viewer, peer);
                    Assert.Equal(Describe(expected), Describe(actual));
                    checkedEntries++;
                }
            }
        }
        Assert.True(checkedEntries > 1000, $"only {checkedEntries} entries were compared");
    }

    [Fact]
    public void a_change_that_stands_alone_alters_nothing_but_that_entry_in_a_member_viewers_config()
    {
        var random = new RandomNetworks(seed: 2727);
        var compared = 0;
        for (var round = 0; round < 1500; round++)
        {
            var before = Independent(random.Network(maxPeers: 10));
            var (after, touched) = random.Change(before);
            if (!ConfigBuilder.ChangeStandsAlone(before, after, touched)) continue;
            foreach (var viewer in after.Peers.Where(p => p.Id != touched && p.Kind != PeerKind.Jump))
            {
                if (before.FindPeer(viewer.Id) is not { } viewerBefore) continue;
                var was = ConfigBuilder.Build(before, viewer.Id);
                var @is = ConfigBuilder.Build(after, viewer.Id);
                // Everything but the touched peer's entry is the same, in the same order; the interface and host rules too (the JSON below).
                Assert.Equal(Others(was, touched), Others(@is, touched));
                Assert.Equal(AgentConfigMapper.Serialize(AgentConfigMapper.From(was with { Peers = [] }, 0, HostRules.For(before, viewer.Id))),
                    AgentConfigMapper.Serialize(AgentConfigMapper.From(@is with { Peers = [] }, 0, HostRules.For(after, viewer.Id))));
                // And the touched entry is what StandaloneEntry says, before and after.
                Assert.Equal(Describe(was.Peers.FirstOrDefault(e => e.PeerId == touched)),
                    Describe(before.FindPeer(touched) is { } b ? ConfigBuilder.StandaloneEntry(viewerBefore, b) : null));
                Assert.Equal(Describe(@is.Peers.FirstOrDefault(e => e.PeerId == touched)),
                    Describe(after.FindPeer(touched) is { } a ? ConfigBuilder.StandaloneEntry(viewer, a) : null));
                compared++;
            }
        }
        Assert.True(compared > 300, $"only {compared} configs were compared");
    }

    /// <summary>Random networks mostly have routes or deny somewhere; most of these are made independent (some are left alone).</summary>
    private static Network Independent(Network network) => network.Peers.Count % 4 == 3 ? network : network with
    {
        DefaultPolicy = Wirety.Events.Segmentation.DefaultPolicy.Allow,
        Routes = [],
        Peers = network.Peers.ConvertAll(p => p with { AdditionalAllowedIps = [] }),
    };

    private static List<string> Others(PeerConfigModel model, Guid touched) =>
        model.Peers.Where(e => e.PeerId != touched).Select(Describe).ToList();

    private static string Describe(PeerEntry? e) => e is null ? "none"
        : $"{e.PeerId} {e.Name} {e.Kind} {e.PublicKey} {e.Endpoint} [{string.Join(",", e.AllowedIps)}] {e.PersistentKeepalive}";
}
