using System.Net;
using Wirety.Events.Addressing;

namespace Wirety.Tests.Unit.Addressing;

public class WireGuardEndpointTests
{
    [Theory]
    [InlineData("192.0.2.1:51820", true)]
    [InlineData("[2001:db8::1]:51820", true)]
    [InlineData("vpn.example.com:51820", true)]
    [InlineData("VPN-1.Example.com:1", true)]
    [InlineData("192.0.2.1:65535", true)]
    [InlineData("vpn.example.com:051820", true)]
    [InlineData("192.0.2.1", false)]
    [InlineData("2001:db8::1:51820", false)]
    [InlineData("[192.0.2.1]:51820", false)]
    [InlineData("[fe80::1%eth0]:51820", false)]
    [InlineData("vpn.example.com:0", false)]
    [InlineData("vpn.example.com:65536", false)]
    [InlineData("vpn.example.com:+51820", false)]
    [InlineData("vpn.example.com: 51820", false)]
    [InlineData(":51820", false)]
    [InlineData("a b:1", false)]
    [InlineData("-vpn.example.com:1", false)]
    [InlineData("vpn_1.example.com:1", false)]
    [InlineData("", false)]
    public void endpoints_are_host_colon_port_with_an_ip_literal_or_a_dns_name(string endpoint, bool ok) =>
        Assert.Equal(ok, WireGuardEndpoint.IsWellFormed(endpoint));

    [Theory]
    [InlineData("vpn.example.com", EndpointSyntax.BadPort)]
    [InlineData("vpn.example.com:99999", EndpointSyntax.BadPort)]
    [InlineData("bad host:51820", EndpointSyntax.BadHost)]
    [InlineData("fd00::1:51820", EndpointSyntax.BadHost)]
    public void a_bad_endpoint_says_which_part_is_wrong(string endpoint, EndpointSyntax expected) =>
        Assert.Equal(expected, WireGuardEndpoint.Read(endpoint, out _));

    [Theory]
    [InlineData("[2001:db8::1]:51820", "2001:db8::1", 51820)]
    [InlineData("192.0.2.1:1", "192.0.2.1", 1)]
    [InlineData("vpn.example.com:51820", "vpn.example.com", 51820)]
    public void a_parsed_endpoint_has_its_host_without_brackets_and_prints_back(string text, string host, int port)
    {
        Assert.True(WireGuardEndpoint.TryParse(text, out var endpoint));
        Assert.Equal(new WireGuardEndpoint(host, port), endpoint);
        Assert.Equal(text, endpoint.ToString());
    }

    [Theory]
    [InlineData("192.0.2.1:51820", "192.0.2.1")]
    [InlineData("[2001:db8::1]:51820", "2001:db8::1")]
    [InlineData("[fe80::1%2]:51820", "fe80::1%2")]
    [InlineData("vpn.example.com", "vpn.example.com")]
    [InlineData(null, null)]
    public void the_host_of_a_recorded_endpoint_is_its_ip_part(string? endpoint, string? host) =>
        Assert.Equal(host, WireGuardEndpoint.HostOf(endpoint));

    [Theory]
    [InlineData("192.0.2.1", "192.0.2.1:51820")]
    [InlineData("2001:db8::1", "[2001:db8::1]:51820")]
    public void an_observed_socket_address_is_written_as_an_endpoint(string address, string expected) =>
        Assert.Equal(expected, WireGuardEndpoint.Of(IPAddress.Parse(address), 51820));

    [Fact]
    public void literal_endpoints_compare_by_address_and_port()
    {
        Assert.True(WireGuardEndpoint.Same("192.0.2.1:51820", "192.0.2.1:51820"));
        Assert.True(WireGuardEndpoint.Same("[2001:db8::1]:51820", "[2001:DB8:0::1]:51820"));
        Assert.True(WireGuardEndpoint.Same("[::ffff:192.0.2.1]:51820", "192.0.2.1:51820"));
        Assert.False(WireGuardEndpoint.Same("192.0.2.1:51820", "192.0.2.1:51821"));
        Assert.False(WireGuardEndpoint.Same("vpn.example.com:51820", "192.0.2.1:51820"));
        Assert.False(WireGuardEndpoint.Same(null, "192.0.2.1:51820"));
    }
}
