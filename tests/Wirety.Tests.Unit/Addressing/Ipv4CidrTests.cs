using System.Net;
using Wirety.Events.Addressing;

namespace Wirety.Tests.Unit.Addressing;

public class Ipv4CidrTests
{
    [Theory]
    [InlineData("10.0.0.0/8")]
    [InlineData("192.168.1.0/24")]
    [InlineData("172.16.0.0/12")]
    [InlineData("10.1.2.3/32")]
    [InlineData("0.0.0.0/0")]
    [InlineData("255.255.255.252/30")]
    public void a_canonical_prefix_parses_and_prints_back_unchanged(string text)
    {
        Assert.True(Ipv4Cidr.TryParse(text, out var cidr, out var error), error);
        Assert.Equal("", error);
        Assert.Equal(text, cidr.ToString());
    }

    [Theory]
    [InlineData("10.0.0/24")]
    [InlineData("10.0.0.0.0/24")]
    [InlineData("10.0.0.256/24")]
    [InlineData("10..0.0/24")]
    [InlineData("010.0.0.0/24")]
    [InlineData("a.b.c.d/24")]
    [InlineData(" 10.0.0.0/24")]
    [InlineData("10.0.0.-1/24")]
    [InlineData("fd00::/64")]
    public void a_malformed_address_is_refused_with_a_clear_message(string text)
    {
        Assert.False(Ipv4Cidr.TryParse(text, out _, out var error));
        Assert.Contains("is malformed", error);
        Assert.Contains("not an IPv4 address", error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    public void an_empty_cidr_is_refused(string? text)
    {
        Assert.False(Ipv4Cidr.TryParse(text, out _, out var error));
        Assert.Contains("empty", error);
    }

    [Fact]
    public void an_address_without_prefix_is_refused()
    {
        Assert.False(Ipv4Cidr.TryParse("10.0.0.0", out _, out var error));
        Assert.Equal("'10.0.0.0' is not a CIDR: expected address/prefix, such as 10.0.0.0/24.", error);
    }

    [Theory]
    [InlineData("10.0.0.0/33")]
    [InlineData("10.0.0.0/-1")]
    [InlineData("10.0.0.0/")]
    [InlineData("10.0.0.0/abc")]
    [InlineData("10.0.0.0/08")]
    [InlineData("10.0.0.0/24/1")]
    public void a_prefix_length_out_of_range_is_refused(string text)
    {
        Assert.False(Ipv4Cidr.TryParse(text, out _, out var error));
        Assert.Contains("must be a number from 0 to 32", error);
    }

    [Theory]
    [InlineData("10.0.0.1/24", "10.0.0.1/24 has host bits set; did you mean 10.0.0.0/24?")]
    [InlineData("192.168.1.77/16", "192.168.1.77/16 has host bits set; did you mean 192.168.0.0/16?")]
    [InlineData("1.2.3.4/0", "1.2.3.4/0 has host bits set; did you mean 0.0.0.0/0?")]
    public void host_bits_set_are_refused_with_the_intended_prefix_suggested(string text, string expected)
    {
        Assert.False(Ipv4Cidr.TryParse(text, out _, out var error));
        Assert.Equal(expected, error);
    }

    [Fact]
    public void parse_throws_a_format_exception_carrying_the_message()
    {
        var exception = Assert.Throws<FormatException>(() => Ipv4Cidr.Parse("10.0.0.1/24"));
        Assert.Contains("did you mean 10.0.0.0/24?", exception.Message);
    }

    [Theory]
    [InlineData("10.0.0.0/24", "10.0.0.0", "10.0.0.255", 254)]
    [InlineData("10.0.0.0/8", "10.0.0.0", "10.255.255.255", 16_777_214)]
    [InlineData("192.168.4.0/30", "192.168.4.0", "192.168.4.3", 2)]
    [InlineData("192.168.4.0/31", "192.168.4.0", "192.168.4.1", 0)]
    [InlineData("192.168.4.7/32", "192.168.4.7", "192.168.4.7", 0)]
    [InlineData("0.0.0.0/0", "0.0.0.0", "255.255.255.255", 4_294_967_294)]
    public void network_broadcast_and_usable_host_count(string text, string network, string broadcast, long hosts)
    {
        var cidr = Ipv4Cidr.Parse(text);
        Assert.Equal(IPAddress.Parse(network), cidr.Network);
        Assert.Equal(IPAddress.Parse(broadcast), cidr.Broadcast);
        Assert.Equal(hosts, cidr.HostCount);
    }

    [Theory]
    [InlineData("10.0.0.0", true)]
    [InlineData("10.0.0.255", true)]
    [InlineData("10.0.0.42", true)]
    [InlineData("10.0.1.0", false)]
    [InlineData("9.255.255.255", false)]
    [InlineData("::ffff:10.0.0.9", true)]
    [InlineData("fd00::1", false)]
    public void contains_covers_the_whole_prefix_and_nothing_else(string address, bool expected) =>
        Assert.Equal(expected, Ipv4Cidr.Parse("10.0.0.0/24").Contains(IPAddress.Parse(address)));

    [Theory]
    [InlineData("10.0.0.0/24", "10.0.0.0/24", true)]
    [InlineData("10.0.0.0/8", "10.200.3.0/24", true)]
    [InlineData("10.200.3.0/24", "10.0.0.0/8", true)]
    [InlineData("10.0.0.0/25", "10.0.0.128/25", false)]
    [InlineData("10.0.0.0/24", "10.0.1.0/24", false)]
    [InlineData("0.0.0.0/0", "192.168.1.1/32", true)]
    [InlineData("192.168.1.1/32", "192.168.1.2/32", false)]
    public void overlaps_is_symmetric_and_true_exactly_when_one_contains_the_other(string a, string b, bool expected)
    {
        Assert.Equal(expected, Ipv4Cidr.Parse(a).Overlaps(Ipv4Cidr.Parse(b)));
        Assert.Equal(expected, Ipv4Cidr.Parse(b).Overlaps(Ipv4Cidr.Parse(a)));
    }

    [Fact]
    public void any_prefix_round_trips_through_its_text_and_agrees_with_ipaddress()
    {
        var random = new Random(4242);
        for (var i = 0; i < 5_000; i++)
        {
            var address = IpAddresses.FromUInt32((uint)random.NextInt64(0, 1L << 32));
            var cidr = Ipv4Cidr.Containing(address, random.Next(0, 33));

            var reparsed = Ipv4Cidr.Parse(cidr.ToString());
            Assert.Equal(cidr, reparsed);
            Assert.True(cidr.Contains(address));
            Assert.True(IpAddresses.TryParseIPv4(address.ToString(), out var strict));
            Assert.Equal(address, strict);
            Assert.Equal(cidr.Size, (long)IpAddresses.ToUInt32(cidr.Broadcast) - IpAddresses.ToUInt32(cidr.Network) + 1);
            Assert.Equal(IPNetwork.Parse(cidr.ToString()), cidr.Prefix.Network);
        }
    }

    [Fact]
    public void the_strict_address_parser_accepts_exactly_the_dotted_quads_ipaddress_prints()
    {
        var random = new Random(99);
        for (var i = 0; i < 5_000; i++)
        {
            // Octets around the edges (0, 255, 256+) and with leading zeros, sometimes 3 or 5 of them.
            var octets = Enumerable.Range(0, random.Next(3, 6))
                .Select(_ => (random.Next(4) == 0 ? "0" : "") + random.Next(0, 300).ToString(System.Globalization.CultureInfo.InvariantCulture));
            var text = string.Join('.', octets);

            var printsAsItself = IPAddress.TryParse(text, out var framework) && framework.ToString() == text;
            Assert.Equal(printsAsItself, IpAddresses.TryParseIPv4(text, out var parsed));
            if (printsAsItself) Assert.Equal(framework, parsed);
        }
    }

    [Fact]
    public void overlap_agrees_with_a_shared_address_on_random_prefixes()
    {
        var random = new Random(7);
        for (var i = 0; i < 5_000; i++)
        {
            // Small universe (10.0.0.0/20) so that overlaps actually happen.
            var a = Ipv4Cidr.Containing(IpAddresses.FromUInt32(0x0A000000u | (uint)random.Next(0, 4096)), random.Next(20, 33));
            var b = Ipv4Cidr.Containing(IpAddresses.FromUInt32(0x0A000000u | (uint)random.Next(0, 4096)), random.Next(20, 33));
            var sharesAnAddress = a.Contains(b.Network) || b.Contains(a.Network);
            Assert.Equal(sharesAnAddress, a.Overlaps(b));
        }
    }

    [Fact]
    public void default_is_the_whole_ipv4_space() =>
        Assert.Equal("0.0.0.0/0", default(Ipv4Cidr).ToString());
}
