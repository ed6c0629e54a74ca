using Wirety.Events.Peers;
using Wirety.Projections.Configs;
using Wirety.Projections.Networks;
using static Wirety.Tests.Unit.TestNetwork;

namespace Wirety.Tests.Unit.Configs;

/// <summary>What policies and routes change in the configs themselves (the filters: PeerFiltersTests).</summary>
public class SegmentedConfigTests
{
    private static readonly Guid Jump = PeerId(1), Alice = PeerId(2), Bob = PeerId(3), Carol = PeerId(4), Printer = PeerId(5);
    private static readonly Guid Ssh = PeerId(200), Lan = PeerId(300), Exit = PeerId(301), Ops = PeerId(100);

    private static Network Office() => Create()
        .AddPeer(Jump, "jump", PeerKind.Jump, Key(1), "198.51.100.1:51820")
        .AddPeer(Alice, "alice", PeerKind.Dynamic, Key(2), "203.0.113.2:51820")
        .AddPeer(Bob, "bob", PeerKind.Dynamic, Key(3), "203.0.113.3:51820")
        .AddPeer(Carol, "carol", PeerKind.Dynamic, Key(4), "203.0.113.4:51820")
        .AddPeer(Printer, "printer", PeerKind.Static, Key(5));

    private static PeerEntry? EntryFor(PeerConfigModel config, Guid peer) => config.Peers.SingleOrDefault(e => e.PeerId == peer);

    [Fact]
    public void under_deny_only_peers_a_policy_connects_get_direct_entries_both_ways()
    {
        var network = Office().Deny().Policy(Ssh, [Alice], [Bob], "tcp/22");

        Assert.NotNull(EntryFor(ConfigBuilder.Build(network, Alice), Bob));
        Assert.NotNull(EntryFor(ConfigBuilder.Build(network, Bob), Alice)); // replies need the tunnel too
        Assert.Null(EntryFor(ConfigBuilder.Build(network, Alice), Carol));
        Assert.Equal([Jump], ConfigBuilder.Build(network, Carol).Peers.Select(e => e.PeerId));
        Assert.Equal(["10.10.0.0/24"], EntryFor(ConfigBuilder.Build(network, Carol), Jump)!.AllowedIps); // the jump still relays, and filters
    }

    [Fact]
    public void a_route_rides_on_its_peers_entry_when_direct_and_on_the_primary_jump_otherwise()
    {
        var network = Office().Group(Ops, "ops", Alice, Printer).Route(Lan, "192.168.10.0/24", Bob, Ops);

        Assert.Equal(["10.10.0.3/32", "192.168.10.0/24"], EntryFor(ConfigBuilder.Build(network, Alice), Bob)!.AllowedIps);
        Assert.Equal(["10.10.0.0/24", "192.168.10.0/24"], EntryFor(ConfigBuilder.Build(network, Printer), Jump)!.AllowedIps);
        Assert.DoesNotContain("192.168.10.0/24", ConfigBuilder.Build(network, Carol).Peers.SelectMany(e => e.AllowedIps)); // not offered
        Assert.Contains("192.168.10.0/24", EntryFor(ConfigBuilder.Build(network, Jump), Bob)!.AllowedIps); // the jump relays it
    }

    [Fact]
    public void a_route_is_only_offered_where_policy_lets_the_user_reach_its_peer()
    {
        var network = Office().Deny().Policy(Ssh, [Alice], [Bob], "tcp/22").Route(Lan, "192.168.10.0/24", Bob);

        Assert.Contains("192.168.10.0/24", EntryFor(ConfigBuilder.Build(network, Alice), Bob)!.AllowedIps);
        Assert.DoesNotContain("192.168.10.0/24", ConfigBuilder.Build(network, Carol).Peers.SelectMany(e => e.AllowedIps));
    }

    [Fact]
    public void an_exit_route_is_used_only_over_a_direct_entry_and_never_by_the_jump()
    {
        var network = Office().Route(Exit, "0.0.0.0/0", Bob);

        Assert.Contains("0.0.0.0/0", EntryFor(ConfigBuilder.Build(network, Alice), Bob)!.AllowedIps);
        Assert.DoesNotContain("0.0.0.0/0", ConfigBuilder.Build(network, Printer).Peers.SelectMany(e => e.AllowedIps));
        Assert.DoesNotContain("0.0.0.0/0", EntryFor(ConfigBuilder.Build(network, Jump), Bob)!.AllowedIps);
    }

    [Fact]
    public void a_network_with_no_policies_under_allow_renders_exactly_as_before_segmentation()
    {
        var plain = Office();
        var segmented = plain.Group(Ops, "ops", Alice, Bob);

        Assert.All(plain.Peers, p => Assert.Equal(
            WgQuickRenderer.Render(ConfigBuilder.Build(plain, p.Id)), WgQuickRenderer.Render(ConfigBuilder.Build(segmented, p.Id))));
    }
}
