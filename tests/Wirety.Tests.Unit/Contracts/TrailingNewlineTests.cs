using Wirety.Events.Addressing;
using Wirety.Server.Networks;
using Wirety.Server.Peers;

namespace Wirety.Tests.Unit.Contracts;

/// <summary>
/// In .NET regexes <c>$</c> also matches before a final "\n", so a pattern anchored with it lets "name\n" through
/// (into configs, DNS names and the UI). Every field pattern anchors with <c>\z</c>; these pin that for each field.
/// </summary>
public class TrailingNewlineTests
{
    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData(" ")]
    public void a_peer_name_with_a_trailing_line_break_is_refused(string tail)
    {
        Assert.Null(PeerRules.Name("laptop"));
        Assert.NotNull(PeerRules.Name("laptop" + tail));
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    public void a_network_name_with_a_trailing_line_break_is_refused(string tail)
    {
        Assert.Null(NetworkRules.Name("corp net"));
        Assert.NotNull(NetworkRules.Name("corp net" + tail));
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData(".")]
    public void a_domain_with_a_trailing_line_break_is_refused(string tail)
    {
        Assert.Null(NetworkRules.Domain("mesh.example.com"));
        Assert.NotNull(NetworkRules.Domain("mesh.example.com" + tail));
    }

    [Theory]
    [InlineData("vpn.example.com\n:51820")]
    [InlineData("vpn.example.com:51820\n")]
    [InlineData("192.0.2.1\n:51820")]
    [InlineData("192.0.2.1:51820\n")]
    [InlineData("[2001:db8::1]:51820\n")]
    public void an_endpoint_with_a_line_break_is_refused(string endpoint)
    {
        Assert.True(WireGuardEndpoint.IsWellFormed(endpoint.Replace("\n", "")));
        Assert.False(WireGuardEndpoint.IsWellFormed(endpoint));
    }

    [Fact]
    public void a_253_character_dns_name_is_still_the_limit()
    {
        var name = string.Join('.', Enumerable.Repeat(new string('a', 61), 4)) + ".abcde"; // 4×61 + 3 dots + 6
        Assert.Equal(253, name.Length);
        Assert.True(WireGuardEndpoint.IsWellFormed(name + ":1"));
        Assert.False(WireGuardEndpoint.IsWellFormed(name + "c:1"));
        Assert.False(WireGuardEndpoint.IsWellFormed(name + "\n:1"));
    }
}
