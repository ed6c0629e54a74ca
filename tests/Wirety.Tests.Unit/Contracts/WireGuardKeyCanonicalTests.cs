using Wirety.Events.Peers;

namespace Wirety.Tests.Unit.Contracts;

public class WireGuardKeyCanonicalTests
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    [Fact]
    public void every_spelling_of_the_same_32_bytes_parses_to_one_canonical_text()
    {
        var bytes = Enumerable.Range(1, 32).Select(i => (byte)(i * 7)).ToArray();
        var canonical = Convert.ToBase64String(bytes);
        var last = Alphabet.IndexOf(canonical[42]);
        for (var unused = 0; unused < 4; unused++)
        {
            var spelt = canonical[..42] + Alphabet[(last & ~3) | unused] + "=";
            Assert.True(WireGuardKey.TryParse(spelt, out var key));
            Assert.Equal(canonical, key.ToString());
            Assert.Equal(canonical, WireGuardKey.Canonical(spelt));
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not base64 at all, but forty-four characters")]
    public void a_malformed_key_has_no_canonical_text(string? text) => Assert.Null(WireGuardKey.Canonical(text));
}
