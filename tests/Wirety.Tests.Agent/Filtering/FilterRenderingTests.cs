using Wirety.Agent.Filtering;
using Wirety.Events.Agent;

namespace Wirety.Tests.Agent.Filtering;

/// <summary>How the server's filter becomes nftables and iptables rules.</summary>
public class FilterRenderingTests
{
    private static AgentFilterRule Accept(string[]? from = null, string[]? to = null, params string[] ports) => new("accept", from ?? [], to ?? [], ports);
    private static AgentFilterRule Drop(string[]? from = null, string[]? to = null, params string[] ports) => new("drop", from ?? [], to ?? [], ports);

    private static FilterRuleset Read(IReadOnlyList<AgentFilterRule> input, IReadOnlyList<AgentFilterRule>? forward = null, List<string>? problems = null) =>
        FilterRuleset.Read(new AgentFilter(input, forward), problems ?? []);

    private static List<string> Nft(params AgentFilterRule[] rules) => [.. Read(rules).Input.SelectMany(NftFilterRules.Rule)];

    private static List<string> Iptables(params AgentFilterRule[] rules) => [.. Read(rules).Input.SelectMany(IptablesFilterRules.Rule)];

    [Fact]
    public void an_nft_chain_sees_only_the_tunnel_accepts_replies_keeps_rule_order_and_ends_in_drop()
    {
        var ruleset = Read([Accept(["198.18.0.10/32"], null, "tcp/22"), Drop(["198.18.0.0/24"]), Accept()]);

        Assert.Equal(
            [
                "iifname != \"wirety0\" return",
                "ct direction reply ct state established accept",
                "ct state related accept",
                "meta nfproto != ipv4 drop",
                "ip saddr 198.18.0.10/32 tcp dport 22 accept",
                "ip saddr 198.18.0.0/24 drop",
                "accept",
                "drop",
            ],
            NftFilterRules.ChainRules("wirety0", ruleset.Input));
    }

    [Fact]
    public void nft_ports_become_one_rule_per_protocol_with_sets_of_ports_and_ranges()
    {
        Assert.Equal(
            [
                "ip saddr { 198.18.0.10/32, 198.18.0.12/32 } ip daddr 198.18.0.2/32 tcp dport { 22, 443, 8000-8100 } accept",
                "ip saddr { 198.18.0.10/32, 198.18.0.12/32 } ip daddr 198.18.0.2/32 udp dport 53 accept",
                "ip saddr { 198.18.0.10/32, 198.18.0.12/32 } ip daddr 198.18.0.2/32 meta l4proto icmp accept",
            ],
            Nft(Accept(["198.18.0.12/32", "198.18.0.10/32"], ["198.18.0.2/32"], "icmp", "tcp/8000-8100", "udp/53", "tcp/443", "tcp/22")));
    }

    [Fact]
    public void a_whole_protocol_covers_its_ports_and_overlapping_entries_are_merged()
    {
        Assert.Equal(
            ["meta l4proto tcp drop", "udp dport { 53-60, 100 } drop"],
            Nft(Drop(null, null, "tcp/22", "tcp", "udp/53-55", "udp/54-60", "udp/100", "udp/100")));
        Assert.Equal(
            ["ip saddr 198.18.0.0/24 accept"],
            Nft(Accept(["198.18.0.10/32", "198.18.0.0/24", "198.18.0.0/24"])));
    }

    [Fact]
    public void empty_lists_mean_any_address_and_any_protocol()
    {
        Assert.Equal(["accept"], Nft(Accept()));
        Assert.Equal(["-j RETURN"], Iptables(Accept()));
        Assert.Equal(["ip daddr 198.18.5.0/24 drop"], Nft(Drop(null, ["198.18.5.0/24"])));
        Assert.Equal(["-d 198.18.5.0/24 -j DROP"], Iptables(Drop(null, ["198.18.5.0/24"])));
    }

    [Fact]
    public void the_nft_transaction_replaces_only_the_agents_table_and_adds_a_forward_chain_only_when_asked()
    {
        var inputOnly = NftFilterRules.Transaction("wirety0", Read([Accept(["198.18.0.10/32"], null, "tcp/22")]));
        var withForward = NftFilterRules.Transaction("wirety0", Read([], [Accept(["198.18.0.10/32"], ["198.18.0.11/32"])]));

        Assert.StartsWith("table inet wirety_filter {}\ndelete table inet wirety_filter\ntable inet wirety_filter {\n\tchain input {\n" +
                          "\t\ttype filter hook input priority 0; policy accept;\n", inputOnly, StringComparison.Ordinal);
        Assert.DoesNotContain("forward", inputOnly, StringComparison.Ordinal);
        Assert.Contains("\tchain forward {\n\t\ttype filter hook forward priority 0; policy accept;\n\t\tiifname != \"wirety0\" return\n", withForward, StringComparison.Ordinal);
        Assert.Contains("\t\tip saddr 198.18.0.10/32 ip daddr 198.18.0.11/32 accept\n\t\tdrop\n\t}\n}\n", withForward, StringComparison.Ordinal);
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Matches(withForward, "wirety_filter").Count); // touches no other table
    }

    [Fact]
    public void iptables_rules_return_to_the_host_rules_on_accept_and_split_protocols()
    {
        Assert.Equal(
            [
                "-s 198.18.0.10/32,198.18.0.12/32 -p tcp -m multiport --dports 22,8000:8100 -j RETURN",
                "-s 198.18.0.10/32,198.18.0.12/32 -p udp -m udp --dport 53 -j RETURN",
                "-s 198.18.0.10/32,198.18.0.12/32 -p icmp -j RETURN",
            ],
            Iptables(Accept(["198.18.0.12/32", "198.18.0.10/32"], null, "icmp", "tcp/8000-8100", "udp/53", "tcp/22")));
        Assert.Equal(["-p tcp -m tcp --dport 8000:8100 -j DROP", "-p udp -j DROP"], Iptables(Drop(null, null, "tcp/8000-8100", "udp")));
    }

    [Fact]
    public void more_ports_than_multiport_takes_are_split_into_several_rules()
    {
        var ports = Enumerable.Range(1, 20).Select(i => $"tcp/{i * 10}").Append("tcp/1000-2000").ToArray();

        var lines = Iptables(Accept(null, null, ports));

        Assert.Equal(
            [
                "-p tcp -m multiport --dports 10,20,30,40,50,60,70,80,90,100,110,120,130,140,150 -j RETURN",
                "-p tcp -m multiport --dports 160,170,180,190,200,1000:2000 -j RETURN",
            ],
            lines);
    }

    [Fact]
    public void an_iptables_chain_accepts_replies_then_the_rules_then_drops_and_ipv6_gets_replies_only()
    {
        var ruleset = Read([Drop(["198.18.0.10/32"]), Accept(null, null, "icmp")]);

        Assert.Equal(
            [
                "-A WIRETY-INPUT -m conntrack --ctstate ESTABLISHED --ctdir REPLY -j RETURN",
                "-A WIRETY-INPUT -m conntrack --ctstate RELATED -j RETURN",
                "-A WIRETY-INPUT -s 198.18.0.10/32 -j DROP",
                "-A WIRETY-INPUT -p icmp -j RETURN",
                "-A WIRETY-INPUT -j DROP",
            ],
            IptablesFilterRules.ChainRules("WIRETY-INPUT", ruleset.Input));
        Assert.Equal(3, IptablesFilterRules.ChainRules("WIRETY-INPUT", null).Count);
    }

    [Fact]
    public void the_iptables_restore_replaces_old_jumps_and_drops_a_chain_no_longer_wanted()
    {
        const string listing = """
            -P INPUT ACCEPT
            -P FORWARD DROP
            -N DOCKER-USER
            -N WIRETY-FORWARD
            -N WIRETY-INPUT
            -A INPUT -i wg-old -j WIRETY-INPUT
            -A INPUT -i eth0 -p tcp -m tcp --dport 22 -j ACCEPT
            -A FORWARD -i wirety0 -j WIRETY-FORWARD
            -A FORWARD -j DOCKER-USER
            -A WIRETY-FORWARD -j DROP
            -A WIRETY-INPUT -j DROP
            """;
        var own = IptablesFilterRules.OwnLines(listing);
        Assert.Equal(
            ["-N WIRETY-FORWARD", "-N WIRETY-INPUT", "-A INPUT -i wg-old -j WIRETY-INPUT", "-A FORWARD -i wirety0 -j WIRETY-FORWARD", "-A WIRETY-FORWARD -j DROP", "-A WIRETY-INPUT -j DROP"],
            own);

        var restore = IptablesFilterRules.Restore("wirety0", Read([Accept(null, null, "tcp/22")]), ipv4: true, own);

        Assert.Equal(
            """
            *filter
            :WIRETY-INPUT - [0:0]
            -D INPUT -i wg-old -j WIRETY-INPUT
            -D FORWARD -i wirety0 -j WIRETY-FORWARD
            -F WIRETY-FORWARD
            -X WIRETY-FORWARD
            -A WIRETY-INPUT -m conntrack --ctstate ESTABLISHED --ctdir REPLY -j RETURN
            -A WIRETY-INPUT -m conntrack --ctstate RELATED -j RETURN
            -A WIRETY-INPUT -p tcp -m tcp --dport 22 -j RETURN
            -A WIRETY-INPUT -j DROP
            -I INPUT 1 -i wirety0 -j WIRETY-INPUT
            COMMIT

            """.ReplaceLineEndings("\n"),
            restore);
        Assert.Equal(
            "*filter\n-D INPUT -i wg-old -j WIRETY-INPUT\n-D FORWARD -i wirety0 -j WIRETY-FORWARD\n-F WIRETY-FORWARD\n-X WIRETY-FORWARD\n-F WIRETY-INPUT\n-X WIRETY-INPUT\nCOMMIT\n",
            IptablesFilterRules.Restore("wirety0", null, ipv4: true, own));
    }

    [Fact]
    public void a_rule_the_agent_cannot_read_is_enforced_in_its_most_restrictive_reading()
    {
        var problems = new List<string>();

        var ruleset = Read(
            [
                Accept(["198.18.0.10/32", "fd00::1/128"], null, "tcp/22"), // IPv6 source: left out
                Drop(["not-an-address"], null, "tcp/22"),                   // drops tcp/22 from anyone
                Drop(null, null, "tcp/0"),                                   // drops everything
                new AgentFilterRule("reject", [], [], ["udp/53"]),          // counts as drop
                Accept(null, null, "icmp"),
            ],
            problems: problems);

        Assert.Equal(["tcp dport 22 drop", "drop", "udp dport 53 drop", "meta l4proto icmp accept"],
            ruleset.Input.SelectMany(NftFilterRules.Rule));
        Assert.Equal(4, problems.Count);
        Assert.Contains(problems, p => p.Contains("fd00::1/128", StringComparison.Ordinal) && p.Contains("left out", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("wirety0\"; flush ruleset")]
    [InlineData("")]
    [InlineData("a-name-too-long-for-linux")]
    public void an_interface_name_that_could_break_the_rule_text_is_refused(string iface)
    {
        Assert.Throws<ArgumentException>(() => NftFilterRules.ChainRules(iface, []));
        Assert.Throws<ArgumentException>(() => IptablesFilterRules.Restore(iface, null, true, []));
    }
}
