using Wirety.Agent.WireGuard;

namespace Wirety.Tests.Agent.WireGuard;

public class ParserTests
{
    // Shaped like real `wg show IF dump` output (keys are random, not secrets of anything).
    private const string Dump =
        "QDRrFH+JzXpQ5pi5+d5c5IlWcFmw2cRdB05VuNMkTVI=\tvN8Dn1nLE2R0xfIvb1JNZ1M5iGRw+8vJZUjOFtXrXSA=\t51820\t0xca76\n" +
        "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\t(none)\t192.0.2.1:51820\t198.18.0.0/24,198.18.9.0/24\t1700000000\t1234\t5678\t25\n" +
        "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=\t(none)\t(none)\t(none)\t0\t0\t0\toff\n";

    [Fact]
    public void wg_dump_is_read_into_device_and_peers()
    {
        var device = WgDump.Parse(Dump);

        Assert.Equal("vN8Dn1nLE2R0xfIvb1JNZ1M5iGRw+8vJZUjOFtXrXSA=", device.PublicKey);
        Assert.Equal(51820, device.ListenPort);
        Assert.Equal(0xca76u, device.Fwmark);
        Assert.Equal(2, device.Peers.Count);
        var jump = device.Peers[0];
        Assert.Equal("192.0.2.1:51820", jump.Endpoint);
        Assert.Equal(["198.18.0.0/24", "198.18.9.0/24"], jump.AllowedIps.Select(p => p.ToString()));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000000), jump.LatestHandshake);
        Assert.Equal((1234, 5678, 25), (jump.RxBytes, jump.TxBytes, jump.PersistentKeepalive));
        var silent = device.Peers[1];
        Assert.Null(silent.Endpoint);
        Assert.Empty(silent.AllowedIps);
        Assert.Null(silent.LatestHandshake);
        Assert.Equal(0, silent.PersistentKeepalive);
    }

    [Fact]
    public void a_fresh_interface_without_a_key_reads_as_no_public_key()
    {
        var device = WgDump.Parse("(none)\t(none)\t0\toff\n");

        Assert.Null(device.PublicKey);
        Assert.Equal(0u, device.Fwmark);
        Assert.Empty(device.Peers);
    }

    [Fact]
    public void ip_json_link_addresses_routes_and_rules_are_read()
    {
        var link = IpJson.ParseLink("""[{"ifindex":2,"ifname":"wirety0","flags":["POINTOPOINT","NOARP","UP","LOWER_UP"],"mtu":1400}]""");
        var addresses = IpJson.ParseAddresses("""
            [{"ifname":"wirety0","addr_info":[{"family":"inet","local":"198.18.0.5","prefixlen":32,"scope":"global"},
              {"family":"inet6","local":"fe80::1","prefixlen":64,"scope":"link"}]}]
            """);
        var routes = IpJson.ParseRoutes("""
            [{"dst":"198.18.0.0/24","protocol":"static","scope":"link","flags":[]},{"dst":"198.18.1.5","protocol":"static","flags":[]},
             {"dst":"default","dev":"eth0","protocol":"dhcp","flags":[]}]
            """, ipv6: false);
        var rules = IpJson.ParseRules("""
            [{"priority":0,"src":"all","table":"local"},{"priority":32764,"src":"all","table":"main","suppress_prefixlen":0},
             {"priority":32765,"not":null,"src":"all","fwmark":"0xca76","table":"51830"}]
            """);

        Assert.Equal(new IpJson.Link(1400, true), link);
        Assert.Equal(["198.18.0.5/32"], addresses.Select(a => a.ToString()));
        Assert.Equal(["198.18.0.0/24", "198.18.1.5/32", "0.0.0.0/0"], routes.Select(r => r.Destination.ToString()));
        Assert.Equal("eth0", routes[2].Device);
        Assert.Equal(0, rules[1].SuppressPrefixLength);
        Assert.True(rules[2].Not);
        Assert.True(IpJson.IsMark(rules[2].Fwmark, WgCommandLine.FullTunnelTable));
    }
}
