using Wirety.Agent.Forwarding;
using Wirety.Agent.WireGuard;
using Wirety.Events.Addressing;
using Wirety.Tests.Agent.Fakes;

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
            [IpPrefix.Parse("198.18.0.10/32"), IpPrefix.Parse("198.18.0.12/32")], "wirety0", installed);

        Assert.Equal(["198.18.0.12/32"], add.Select(p => p.ToString()));
        Assert.Equal(["5", "6", "7", "8"], remove.Select(r => r.Id));
    }

    [Fact]
    public void applying_the_same_sources_twice_changes_nothing()
    {
        var sources = new[] { IpPrefix.Parse("198.18.0.10/32") };
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

    [Fact]
    public async Task without_nft_the_iptables_rules_are_reconciled_by_tag_and_other_rules_left_alone()
    {
        const string listing = """
            -P POSTROUTING ACCEPT
            -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
            -A POSTROUTING -s 198.18.0.11/32 ! -o wirety0 -m comment --comment "wirety-masq 198.18.0.11/32 wirety0" -j MASQUERADE
            """;
        var runner = new RecordingRunner
        {
            Override = (exe, args) => exe == "iptables" && args.Contains("-S") ? new CommandResult("iptables -S", 0, listing, "") : null,
        };
        runner.Installed.Remove("nft");
        runner.Installed.Add("iptables");
        var log = new StringWriter();

        var changes = await new HostForwarding(runner, TestData.Log(log)).ApplyMasqueradeAsync("wirety0", [IpPrefix.Parse("198.18.0.10/32")], default);

        var iptables = runner.Commands.Where(c => c.Exe == "iptables").Select(c => string.Join(' ', c.Args)).ToList();
        Assert.Equal(
            [
                "-t nat -S POSTROUTING",
                "-t nat -D POSTROUTING -s 198.18.0.11/32 ! -o wirety0 -m comment --comment wirety-masq 198.18.0.11/32 wirety0 -j MASQUERADE",
                "-t nat -A POSTROUTING -s 198.18.0.10/32 ! -o wirety0 -m comment --comment wirety-masq 198.18.0.10/32 wirety0 -j MASQUERADE",
            ],
            iptables);
        Assert.Equal(2, changes.Count);
        // ip6tables is missing too, but no IPv6 source is wanted: nothing to warn about.
        Assert.DoesNotContain("warn", log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task with_neither_nft_nor_iptables_masquerading_is_a_warning_not_a_crash()
    {
        var runner = new RecordingRunner();
        runner.Installed.Remove("nft");
        var log = new StringWriter();
        var forwarding = new HostForwarding(runner, TestData.Log(log));

        var changes = await forwarding.ApplyMasqueradeAsync("wirety0", [IpPrefix.Parse("198.18.0.10/32")], default);
        await forwarding.ApplyMasqueradeAsync("wirety0", [IpPrefix.Parse("198.18.0.10/32")], default);

        Assert.Empty(changes);
        Assert.Empty(runner.Commands);
        Assert.Single(log.ToString().Split('\n'), l => l.Contains("warn: neither nft nor iptables is installed", StringComparison.Ordinal));
    }
}
