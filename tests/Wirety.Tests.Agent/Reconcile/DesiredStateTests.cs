using Wirety.Agent.Reconcile;
using Wirety.Events.Addressing;
using Wirety.Events.Agent;
using static Wirety.Tests.Agent.TestData;

namespace Wirety.Tests.Agent.Reconcile;

public class DesiredStateTests
{
    [Fact]
    public void a_config_without_a_usable_address_is_rejected()
    {
        var config = Config() with { Interface = new AgentInterface("not-an-address", 51820, null, []) };

        var e = Assert.Throws<InvalidConfigException>(() => DesiredState.From(config, Self.PublicKey));
        Assert.Contains("not-an-address", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void malformed_peers_and_prefixes_are_skipped_with_a_warning_and_the_rest_is_applied()
    {
        var config = Config("1",
            Jump(),
            new AgentPeer("not-a-key", "192.0.2.3:51820", ["198.18.0.3/32"], null),
            new AgentPeer(Self.PublicKey, null, ["198.18.0.5/32"], null),
            new AgentPeer(LaptopKey, "bad endpoint", ["198.18.0.10/32", "nonsense", "198.18.0.0/24"], 25),
            Laptop());

        var desired = DesiredState.From(config, Self.PublicKey);

        Assert.Equal([JumpKey, LaptopKey], desired.Peers.Select(p => p.PublicKey));
        var laptop = desired.Peers[1];
        Assert.Null(laptop.Endpoint);
        Assert.Equal([IpPrefix.Parse("198.18.0.10/32")], laptop.AllowedIps); // the /24 belongs to the jump already
        Assert.Equal(6, desired.Warnings.Count);
    }

    [Fact]
    public void an_unset_mtu_means_wireguards_default_and_an_unset_port_means_any()
    {
        var desired = DesiredState.From(Config() with { Interface = new AgentInterface("198.18.0.5/32", null, null, []) }, Self.PublicKey);

        Assert.Equal(1420, desired.Mtu);
        Assert.Null(desired.ListenPort);
    }
}
