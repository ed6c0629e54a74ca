using Wirety.Events.Peers;

namespace Wirety.Tests.Unit.Addressing;

public class WireGuardKeyTests
{
    [Fact]
    public void a_key_is_base64_of_exactly_32_bytes_and_keeps_its_text()
    {
        var text = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

        Assert.True(WireGuardKey.TryParse(text, out var key));
        Assert.Equal(text, key.ToString());
        Assert.Equal(key, WireGuardKey.From(Convert.FromBase64String(text)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("AAAA")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")] // 35 bytes
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // 43 characters
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!=")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAA=")] // whitespace that base64 would skip
    public void anything_else_is_not_a_key(string? text) => Assert.False(WireGuardKey.IsWellFormed(text));

    [Fact]
    public void a_raw_key_of_another_length_is_refused() =>
        Assert.Throws<ArgumentException>(() => WireGuardKey.From(new byte[33]));
}
