using Wirety.Agent.Forwarding;
using Wirety.Agent.Networking;

namespace Wirety.Tests.Agent.Forwarding;

public class MasqueradeTests
{
    private static MasqueradeRules.Installed Rule(string comment, string id) => new(comment, id);

    [Fact]
    public void missing_sources_are_added_and_stale_rules_removed()
    {
        var installed = new[]
        {
            Rule("wirety-masq 198.18.0.10/32 wirety0", "4"),   // still wanted
            Rule("wirety-masq 198.18.0.11/32 wirety0", "5"),   // source no longer fully encapsulated
            Rule("wirety-masq 198.18.0.10/32 wirety0", "6"),   // duplicate
            Rule("wirety-masq 198.18.0.12/32 wg-old", "7"),    // interface renamed
            Rule("", "8"),                                      // untagged rule in our table
        };

        var (add, remove) = MasqueradeRules.Plan(
            [IpPrefixes.Parse("198.18.0.10/32"), IpPrefixes.Parse("198.18.0.12/32")], "wirety0", installed);

        Assert.Equal(["198.18.0.12/32"], add.Select(IpPrefixes.Format));
        Assert.Equal(["5", "6", "7", "8"], remove.Select(r => r.Id));
    }

    [Fact]
    public void applying_the_same_sources_twice_changes_nothing()
    {
        var sources = new[] { IpPrefixes.Parse("198.18.0.10/32") };
        var installed = new[] { Rule(MasqueradeRules.Comment(sources[0], "wirety0"), "4") };

        var (add, remove) = MasqueradeRules.Plan(sources, "wirety0", installed);

        Assert.Empty(add);
        Assert.Empty(remove);
    }

    [Fact]
    public void nft_json_rules_are_read_with_their_handles()
    {
        const string json = """
            {"nftables": [{"metainfo": {"version": "1.0.6"}},
             {"chain": {"family": "inet", "table": "wirety", "name": "postrouting", "handle": 1}},
             {"rule": {"family": "inet", "table": "wirety", "chain": "postrouting", "handle": 2, "comment": "wirety-masq 198.18.0.5/32 wirety0", "expr": []}}]}
            """;

        var rule = Assert.Single(HostForwarding.ParseNftRules(json));

        Assert.Equal(("wirety-masq 198.18.0.5/32 wirety0", "2"), (rule.Comment, rule.Id));
    }

    [Fact]
    public void iptables_rules_are_recognized_by_their_tag_only()
    {
        const string listing = """
            -P POSTROUTING ACCEPT
            -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
            -A POSTROUTING -s 198.18.0.5/32 ! -o wirety0 -m comment --comment "wirety-masq 198.18.0.5/32 wirety0" -j MASQUERADE
            -A POSTROUTING -s 198.18.0.6/32 -m comment --comment "somebody else" -j MASQUERADE
            """;

        var rule = Assert.Single(HostForwarding.ParseIptablesRules(listing));

        Assert.Equal("wirety-masq 198.18.0.5/32 wirety0", rule.Comment);
        Assert.Equal(
            ["-A", "POSTROUTING", "-s", "198.18.0.5/32", "!", "-o", "wirety0", "-m", "comment", "--comment", "wirety-masq 198.18.0.5/32 wirety0", "-j", "MASQUERADE"],
            HostForwarding.SplitShellWords(rule.Id));
    }
}
