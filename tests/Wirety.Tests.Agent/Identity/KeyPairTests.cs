using Wirety.Agent.Identity;
using Wirety.Agent.WireGuard;
using Wirety.Events.Peers;

namespace Wirety.Tests.Agent.Identity;

public class KeyPairTests
{
    [Fact]
    public async Task generated_keys_match_what_wg_pubkey_derives()
    {
        var wg = ProcessCommandRunner.Find("wg");
        Assert.True(wg is not null,
            "wg (wireguard-tools) is not installed, so generated keys cannot be checked against `wg pubkey`. " +
            "Install it: ops/install-prereqs.sh --wireguard (or apt-get install -y wireguard-tools).");

        var runner = new ProcessCommandRunner();
        for (var i = 0; i < 5; i++)
        {
            var pair = KeyPair.Generate();
            var result = await runner.RunAsync("wg", ["pubkey"], pair.PrivateKey.Reveal() + "\n", default);

            Assert.True(result.Succeeded, result.Stderr);
            Assert.Equal(pair.PublicKey, result.Stdout.Trim());
            Assert.Equal(pair.PublicKey, KeyPair.PublicKeyOf(pair.PrivateKey));
        }
    }

    [Fact]
    public async Task keys_from_wg_genkey_are_read_the_same_way()
    {
        Assert.True(ProcessCommandRunner.Find("wg") is not null, "wg (wireguard-tools) is not installed: ops/install-prereqs.sh --wireguard");
        var runner = new ProcessCommandRunner();
        var generated = (await runner.RunAsync("wg", ["genkey"], null, default)).Stdout.Trim();
        var expected = (await runner.RunAsync("wg", ["pubkey"], generated + "\n", default)).Stdout.Trim();

        Assert.Equal(expected, KeyPair.PublicKeyOf(new Secret(generated)));
    }

    [Fact]
    public void keys_are_base64_of_32_bytes()
    {
        var pair = KeyPair.Generate();

        Assert.True(WireGuardKey.IsWellFormed(pair.PublicKey));
        Assert.True(WireGuardKey.IsWellFormed(pair.PrivateKey.Reveal()));
        Assert.False(WireGuardKey.IsWellFormed("AAAA"));
        Assert.False(WireGuardKey.IsWellFormed(Convert.ToBase64String(new byte[33])));
        Assert.NotEqual(pair.PublicKey, KeyPair.Generate().PublicKey);
    }

    [Fact]
    public void a_malformed_private_key_is_reported_without_repeating_it()
    {
        const string bad = "c2VjcmV0LWJ1dC1ub3QtYS1rZXk=";

        var e = Assert.Throws<FormatException>(() => KeyPair.PublicKeyOf(new Secret(bad)));

        Assert.DoesNotContain(bad, e.Message, StringComparison.Ordinal);
    }
}
