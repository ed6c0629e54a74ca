using System.Net;
using Wirety.Events.Addressing;

namespace Wirety.Tests.Unit.Addressing;

public class IpPrefixTests
{
    [Theory]
    [InlineData("192.168.10.0/24", "192.168.10.0/24")]
    [InlineData("10.1.2.3/32", "10.1.2.3/32")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    [InlineData("::/0", "::/0")]
    [InlineData("2001:DB8::/32", "2001:db8::/32")]
    [InlineData("2001:db8:0:0:0:0:0:0/48", "2001:db8::/48")]
    [InlineData("fd00:0001::/64", "fd00:1::/64")]
    [InlineData("fd00::1/128", "fd00::1/128")]
    public void an_allowed_ip_of_either_family_parses_to_its_canonical_spelling(string text, string canonical)
    {
        Assert.True(IpPrefix.TryParse(text, out var prefix, out var error), error);
        Assert.Equal(canonical, prefix.ToString());
    }

    [Theory]
    [InlineData("192.168.10.1/24", "192.168.10.1/24 has host bits set; did you mean 192.168.10.0/24?")]
    [InlineData("fd00::1/64", "fd00::1/64 has host bits set; did you mean fd00::/64?")]
    [InlineData("2001:db8:ffff::/32", "2001:db8:ffff::/32 has host bits set; did you mean 2001:db8::/32?")]
    public void an_allowed_ip_with_host_bits_is_refused_with_a_suggestion(string text, string expected)
    {
        Assert.False(IpPrefix.TryParse(text, out _, out var error));
        Assert.Equal(expected, error);
    }

    [Theory]
    [InlineData("192.168.10.0/33", "0 to 32")]
    [InlineData("fd00::/129", "0 to 128")]
    [InlineData("fd00::", "expected address/prefix")]
    [InlineData("192.168.10.7", "expected address/prefix")]
    [InlineData("fe80::1%eth0/128", "is malformed")]
    [InlineData("example.com/24", "is malformed")]
    [InlineData("10.0.0/24", "is malformed")]
    [InlineData("", "empty")]
    public void a_bad_allowed_ip_is_refused(string text, string expectedFragment)
    {
        Assert.False(IpPrefix.TryParse(text, out _, out var error));
        Assert.Contains(expectedFragment, error);
    }

    [Fact]
    public void a_list_of_allowed_ips_is_canonicalised_in_order()
    {
        Assert.True(IpPrefix.TryParseAll(["192.168.1.0/24", "FD00:0::/64"], out var canonical, out var error), error);
        Assert.Equal<string>(["192.168.1.0/24", "fd00::/64"], canonical);
    }

    [Fact]
    public void a_list_repeating_a_prefix_in_another_spelling_is_refused()
    {
        Assert.False(IpPrefix.TryParseAll(["fd00::/64", "FD00:0:0::/64"], out _, out var error));
        Assert.Equal("fd00::/64 is listed more than once.", error);
    }

    [Fact]
    public void a_list_with_one_bad_entry_is_refused_with_that_entrys_message()
    {
        Assert.False(IpPrefix.TryParseAll(["192.168.1.0/24", "10.0.0.1/8"], out _, out var error));
        Assert.Equal("10.0.0.1/8 has host bits set; did you mean 10.0.0.0/8?", error);
    }

    [Theory]
    [InlineData("10.0.0.0/8", "10.20.0.0/16", true)]
    [InlineData("10.0.0.0/16", "10.1.0.0/16", false)]
    [InlineData("0.0.0.0/0", "::/0", false)]
    [InlineData("fd00::/8", "fd12:3456::/32", true)]
    public void prefixes_overlap_only_within_one_family(string a, string b, bool expected) =>
        Assert.Equal(expected, IpPrefix.Parse(a).Overlaps(IpPrefix.Parse(b)));

    [Theory]
    [InlineData("198.18.0.7/24", "198.18.0.0/24")]
    [InlineData("198.18.0.7", "198.18.0.7/32")]
    [InlineData(" 198.18.0.0/16 ", "198.18.0.0/16")]
    [InlineData("2001:db8::1/64", "2001:db8::/64")]
    [InlineData("2001:db8::1", "2001:db8::1/128")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    public void prefixes_are_normalized_like_wireguard_does(string input, string expected)
    {
        Assert.True(IpPrefix.TryNormalize(input, out var prefix));
        Assert.Equal(expected, prefix.ToString());
    }

    [Theory]
    [InlineData("198.18.0.0/33")]
    [InlineData("198.18.0")]
    [InlineData("host/24")]
    [InlineData("fe80::1%eth0/64")]
    [InlineData("")]
    [InlineData(null)]
    public void bad_prefixes_are_refused_when_normalizing(string? input) => Assert.False(IpPrefix.TryNormalize(input, out _));

    [Fact]
    public void covers_and_order_follow_the_address_space()
    {
        var wide = IpPrefix.Parse("10.0.0.0/8");
        Assert.True(wide.Covers(IpPrefix.Parse("10.20.0.0/16")));
        Assert.False(IpPrefix.Parse("10.20.0.0/16").Covers(wide));
        Assert.False(wide.Covers(IpPrefix.Parse("::/0")));
        Assert.Equal(["10.0.0.0/8", "10.0.0.0/16", "192.0.2.0/24", "::/0", "fd00::/8"],
            new[] { "fd00::/8", "192.0.2.0/24", "::/0", "10.0.0.0/16", "10.0.0.0/8" }.Select(IpPrefix.Parse).Order().Select(p => p.ToString()));
    }

    [Fact]
    public void any_ipv6_prefix_round_trips_through_its_text_and_agrees_with_ipnetwork()
    {
        var random = new Random(6);
        var bytes = new byte[16];
        for (var i = 0; i < 5_000; i++)
        {
            random.NextBytes(bytes);
            var address = new IPAddress(bytes);
            var prefix = IpPrefix.Containing(address, random.Next(0, 129));

            Assert.Equal(prefix, IpPrefix.Parse(prefix.ToString()));
            Assert.Equal(IPNetwork.Parse(prefix.ToString()), prefix.Network);
            Assert.True(prefix.Contains(address));
            Assert.True(prefix.Overlaps(IpPrefix.Host(address)));
        }
    }
}
