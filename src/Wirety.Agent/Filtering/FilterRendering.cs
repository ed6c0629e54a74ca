using System.Globalization;
using System.Text;
using Wirety.Events.Addressing;
using Wirety.Events.Segmentation;

namespace Wirety.Agent.Filtering;

/// <summary>
/// The filter as an nftables ruleset: the agent's own table <c>inet wirety_filter</c>, one base chain
/// per hook, each looking only at packets that arrive on the WireGuard interface. Pure.
/// </summary>
public static class NftFilterRules
{
    public const string Table = "wirety_filter";

    /// <summary>
    /// One <c>nft -f -</c> transaction that replaces the table as a whole: declaring it first makes the
    /// delete succeed when it does not exist yet, and nft applies all three commands or none.
    /// </summary>
    public static string Transaction(string iface, FilterRuleset ruleset)
    {
        ArgumentNullException.ThrowIfNull(ruleset);
        var text = new StringBuilder();
        text.Append("table inet ").Append(Table).Append(" {}\n");
        text.Append("delete table inet ").Append(Table).Append('\n');
        text.Append("table inet ").Append(Table).Append(" {\n");
        AppendChain(text, "input", iface, ruleset.Input);
        if (ruleset.Forward is { } forward) AppendChain(text, "forward", iface, forward);
        text.Append("}\n");
        return text.ToString();
    }

    private static void AppendChain(StringBuilder text, string hook, string iface, IReadOnlyList<FilterRule> rules)
    {
        text.Append("\tchain ").Append(hook).Append(" {\n");
        text.Append("\t\ttype filter hook ").Append(hook).Append(" priority 0; policy accept;\n");
        foreach (var line in ChainRules(iface, rules)) text.Append("\t\t").Append(line).Append('\n');
        text.Append("\t}\n");
    }

    /// <summary>The rules of one chain, in order.</summary>
    public static List<string> ChainRules(string iface, IReadOnlyList<FilterRule> rules)
    {
        FilterInterface.Validate(iface);
        var lines = new List<string>
        {
            $"iifname != \"{iface}\" return",
            // Replies of connections let through earlier; the original direction is checked every time,
            // so removing a rule cuts what it allowed.
            "ct direction reply ct state established accept",
            "ct state related accept",
            // Rules are IPv4; whatever else arrives on the tunnel falls to the final drop.
            "meta nfproto != ipv4 drop",
        };
        foreach (var rule in rules) lines.AddRange(Rule(rule));
        lines.Add("drop");
        return lines;
    }

    /// <summary>One nft rule per protocol the rule's ports name (one in all when they name none).</summary>
    public static IEnumerable<string> Rule(FilterRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var addresses = new StringBuilder();
        if (rule.Sources.Count > 0) addresses.Append("ip saddr ").Append(Set(rule.Sources.Select(Prefix))).Append(' ');
        if (rule.Destinations.Count > 0) addresses.Append("ip daddr ").Append(Set(rule.Destinations.Select(Prefix))).Append(' ');
        var verdict = rule.Action == FilterAction.Accept ? "accept" : "drop";
        if (rule.Ports.Count == 0)
        {
            yield return addresses + verdict;
            yield break;
        }
        foreach (var group in rule.Ports.GroupBy(p => p.Protocol).OrderBy(g => g.Key))
            yield return addresses + ProtocolMatch(group.Key, [.. group]) + " " + verdict;
    }

    private static string ProtocolMatch(PortProtocol protocol, IReadOnlyList<PortRange> ranges)
    {
        var name = protocol switch { PortProtocol.Tcp => "tcp", PortProtocol.Udp => "udp", _ => "icmp" };
        if (protocol == PortProtocol.Icmp || ranges.Any(r => r.IsWholeProtocol)) return $"meta l4proto {name}";
        return $"{name} dport " + Set(ranges.Select(r => r.From == r.To
            ? r.From.ToString(CultureInfo.InvariantCulture)
            : string.Create(CultureInfo.InvariantCulture, $"{r.From}-{r.To}")));
    }

    private static string Prefix(IpPrefix prefix) => prefix.ToString();

    private static string Set(IEnumerable<string> items)
    {
        var list = items.ToList();
        return list.Count == 1 ? list[0] : "{ " + string.Join(", ", list) + " }";
    }
}

/// <summary>
/// The filter as iptables rules in the agent's own chains of the filter table, <c>WIRETY-INPUT</c> and
/// <c>WIRETY-FORWARD</c>, reached from INPUT/FORWARD by <c>-i IFACE</c> jumps. "Accept" is
/// <c>RETURN</c>: the packet goes back to the host's own rules, so (as with nftables, whose accept
/// ends only the agent's table) the agent narrows what the host lets in and never opens more. Pure.
/// </summary>
public static class IptablesFilterRules
{
    public const string InputChain = "WIRETY-INPUT";
    public const string ForwardChain = "WIRETY-FORWARD";
    private const int MultiportSlots = 15; // a range takes two

    /// <summary>
    /// The <c>iptables-restore --noflush</c> input that makes the agent's chains and jumps exactly
    /// these (<paramref name="ruleset"/> null: none), given the agent's lines of <c>iptables -S</c>
    /// now (<see cref="OwnLines"/>). Declaring a chain flushes it; old jumps are deleted and the wanted
    /// ones inserted first in INPUT/FORWARD, all in one commit.
    /// </summary>
    /// <param name="ipv4">False for ip6tables: IPv6 gets replies through and everything else dropped.</param>
    public static string Restore(string iface, FilterRuleset? ruleset, bool ipv4, IReadOnlyList<string> installed)
    {
        ArgumentNullException.ThrowIfNull(installed);
        FilterInterface.Validate(iface);
        var chains = new List<(string Chain, string Hook, IReadOnlyList<FilterRule> Rules)>();
        if (ruleset is not null)
        {
            chains.Add((InputChain, "INPUT", ruleset.Input));
            if (ruleset.Forward is { } forward) chains.Add((ForwardChain, "FORWARD", forward));
        }
        var text = new StringBuilder("*filter\n");
        foreach (var (chain, _, _) in chains) text.Append(':').Append(chain).Append(" - [0:0]\n");
        foreach (var jump in installed.Where(IsJump)) text.Append("-D").Append(jump[2..]).Append('\n');
        foreach (var chain in installed.Select(NewChain).OfType<string>().Where(c => chains.All(w => w.Chain != c)))
            text.Append("-F ").Append(chain).Append('\n').Append("-X ").Append(chain).Append('\n');
        foreach (var (chain, hook, rules) in chains)
        {
            foreach (var line in ChainRules(chain, ipv4 ? rules : null)) text.Append(line).Append('\n');
            text.Append("-I ").Append(hook).Append(" 1 -i ").Append(iface).Append(" -j ").Append(chain).Append('\n');
        }
        text.Append("COMMIT\n");
        return text.ToString();
    }

    /// <summary>The <c>-A</c> lines of one chain; <paramref name="rules"/> null: the IPv6 chain (replies only).</summary>
    public static List<string> ChainRules(string chain, IReadOnlyList<FilterRule>? rules)
    {
        var lines = new List<string>
        {
            $"-A {chain} -m conntrack --ctstate ESTABLISHED --ctdir REPLY -j RETURN",
            $"-A {chain} -m conntrack --ctstate RELATED -j RETURN",
        };
        foreach (var rule in rules ?? []) lines.AddRange(Rule(rule).Select(r => $"-A {chain} {r}"));
        lines.Add($"-A {chain} -j DROP");
        return lines;
    }

    /// <summary>The rule's match and target, one line per protocol (and per 15 multiport slots).</summary>
    public static IEnumerable<string> Rule(FilterRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var addresses = new StringBuilder();
        // iptables expands comma lists into one rule per address (per source × destination).
        if (rule.Sources.Count > 0) addresses.Append("-s ").Append(string.Join(',', rule.Sources.Select(p => p.ToString()))).Append(' ');
        if (rule.Destinations.Count > 0) addresses.Append("-d ").Append(string.Join(',', rule.Destinations.Select(p => p.ToString()))).Append(' ');
        var target = rule.Action == FilterAction.Accept ? "-j RETURN" : "-j DROP";
        if (rule.Ports.Count == 0)
        {
            yield return addresses + target;
            yield break;
        }
        foreach (var group in rule.Ports.GroupBy(p => p.Protocol).OrderBy(g => g.Key))
        foreach (var match in ProtocolMatches(group.Key, [.. group]))
            yield return addresses + match + " " + target;
    }

    private static IEnumerable<string> ProtocolMatches(PortProtocol protocol, IReadOnlyList<PortRange> ranges)
    {
        var name = protocol switch { PortProtocol.Tcp => "tcp", PortProtocol.Udp => "udp", _ => "icmp" };
        if (protocol == PortProtocol.Icmp || ranges.Any(r => r.IsWholeProtocol))
        {
            yield return $"-p {name}";
            yield break;
        }
        if (ranges.Count == 1)
        {
            yield return $"-p {name} -m {name} --dport {Ports(ranges[0])}";
            yield break;
        }
        var chunk = new List<string>();
        var slots = 0;
        foreach (var range in ranges)
        {
            var cost = range.From == range.To ? 1 : 2;
            if (slots + cost > MultiportSlots)
            {
                yield return $"-p {name} -m multiport --dports {string.Join(',', chunk)}";
                chunk.Clear();
                slots = 0;
            }
            chunk.Add(Ports(range));
            slots += cost;
        }
        yield return $"-p {name} -m multiport --dports {string.Join(',', chunk)}";
    }

    private static string Ports(PortRange range) => range.From == range.To
        ? range.From.ToString(CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{range.From}:{range.To}");

    /// <summary>The lines of <c>iptables -S</c> (filter table) that are the agent's: its chains, their rules, jumps to them.</summary>
    public static List<string> OwnLines(string listing) =>
        [.. (listing ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => NewChain(l) is not null || IsJump(l) || IsInOwnChain(l))];

    private static bool IsOwn(string chain) => chain is InputChain or ForwardChain;

    private static string? NewChain(string line) => line.Split(' ') is ["-N", var chain] && IsOwn(chain) ? chain : null;

    private static bool IsInOwnChain(string line) => line.Split(' ') is ["-A", var chain, ..] && IsOwn(chain);

    private static bool IsJump(string line) =>
        line.Split(' ') is ["-A", "INPUT" or "FORWARD", .., "-j", var target] && IsOwn(target);
}

internal static class FilterInterface
{
    /// <summary>Interface names go into rule text; the kernel allows up to 15 characters without '/' or spaces, quotes are refused here too.</summary>
    public static void Validate(string iface)
    {
        if (string.IsNullOrEmpty(iface) || iface.Length > 15 || iface.Any(c => char.IsWhiteSpace(c) || c is '"' or '/' or '\\' or '\'' || char.IsControl(c)))
            throw new ArgumentException($"'{iface}' is not a usable interface name", nameof(iface));
    }
}
