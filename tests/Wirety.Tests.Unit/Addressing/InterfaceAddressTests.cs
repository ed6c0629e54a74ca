using System.Net;
using Wirety.Events.Addressing;

namespace Wirety.Tests.Unit.Addressing;

public class InterfaceAddressTests
{
    [Theory]
    [InlineData("198.18.0.5/24", "198.18.0.5/24")]
    [InlineData("198.18.0.5", "198.18.0.5/32")]
    [InlineData(" fd00::5/64 ", "fd00::5/64")]
    public void an_interface_address_keeps_its_host_bits(string text, string expected)
    {
        Assert.True(InterfaceAddress.TryParse(text, out var address));
        Assert.Equal(expected, address.ToString());
    }

    [Theory]
    [InlineData("198.18.0.5/33")]
    [InlineData("198.18.0/24")]
    [InlineData("10.1")]
    [InlineData("")]
    public void a_malformed_interface_address_is_refused(string text) => Assert.False(InterfaceAddress.TryParse(text, out _));

    [Fact]
    public void a_parsed_interface_address_is_the_framework_address() =>
        Assert.Equal(new InterfaceAddress(IPAddress.Parse("198.18.0.5"), 32), InterfaceAddress.TryParse("198.18.0.5/32", out var a) ? a : default);
}
