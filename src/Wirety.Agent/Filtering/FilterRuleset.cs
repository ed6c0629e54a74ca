using Wirety.Events.Addressing;
using Wirety.Events.Agent;
using Wirety.Events.Segmentation;

namespace Wirety.Agent.Filtering;

public enum FilterAction
{
    Accept,
    Drop,
}

/// <summary>
/// One rule of <see cref="AgentFilterRule"/>, read: IPv4 prefixes and port ranges, each list sorted,
/// without duplicates and without entries another entry covers (nft refuses overlapping intervals in
/// a set). An empty list means any.
/// </summary>
public sealed record FilterRule(FilterAction Action, IReadOnlyList<IpPrefix> Sources, IReadOnlyList<IpPrefix> Destinations, IReadOnlyList<PortRange> Ports);

/// <summary>The filter the agent enforces on its WireGuard interface; <see cref="Forward"/> null means no forward chain.</summary>
public sealed record FilterRuleset(IReadOnlyList<FilterRule> Input, IReadOnlyList<FilterRule>? Forward)
{
    /// <summary>
    /// Reads the server's filter. The server validates what it sends, so a rule the agent cannot read
    /// exactly is a bug or a version skew; it is enforced in its most restrictive reading and reported in
    /// <paramref name="problems"/>: an accept rule is left out, a drop rule drops more (the unreadable
    /// list counts as "any"), an unknown action counts as drop.
    /// </summary>
    public static FilterRuleset Read(AgentFilter filter, ICollection<string> problems)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return new FilterRuleset(
            ReadChain("input", filter.Input, problems),
            filter.Forward is null ? null : ReadChain("forward", filter.Forward, problems));
    }

    private static List<FilterRule> ReadChain(string chain, IReadOnlyList<AgentFilterRule>? rules, ICollection<string> problems)
    {
        var result = new List<FilterRule>();
        var index = 0;
        foreach (var rule in rules ?? [])
        {
            index++;
            if (rule is null) continue;
            var where = $"{chain} filter rule {index}";
            var action = rule.Action switch
            {
                AgentFilterRule.Accept => FilterAction.Accept,
                AgentFilterRule.Drop => FilterAction.Drop,
                _ => (FilterAction?)null,
            };
            if (action is null) problems.Add($"{where}: unknown action '{rule.Action}', enforced as drop");

            var unreadable = new List<string>();
            var sources = ReadPrefixes(rule.Sources, unreadable);
            var destinations = ReadPrefixes(rule.Destinations, unreadable);
            var ports = ReadPorts(rule.Ports, unreadable);
            if ((action ?? FilterAction.Drop) == FilterAction.Accept)
            {
                if (sources is null || destinations is null || ports is null)
                {
                    problems.Add($"{where}: cannot read {string.Join(", ", unreadable)}; the accept rule is left out");
                    continue;
                }
            }
            else if (unreadable.Count > 0)
            {
                problems.Add($"{where}: cannot read {string.Join(", ", unreadable)}; the drop rule applies to any value there");
            }
            result.Add(new FilterRule(action ?? FilterAction.Drop, sources ?? [], destinations ?? [], ports ?? []));
        }
        return result;
    }

    /// <summary>Null when an entry is unreadable (named in <paramref name="unreadable"/>).</summary>
    private static List<IpPrefix>? ReadPrefixes(IReadOnlyList<string>? texts, List<string> unreadable)
    {
        var prefixes = new List<IpPrefix>();
        var ok = true;
        foreach (var text in texts ?? [])
        {
            if (IpPrefix.TryParse(text, out var prefix, out _) && prefix.IsIPv4) prefixes.Add(prefix);
            else
            {
                unreadable.Add($"address '{text}' (not an IPv4 prefix)");
                ok = false;
            }
        }
        return ok ? Minimal(prefixes) : null;
    }

    private static List<PortRange>? ReadPorts(IReadOnlyList<string>? texts, List<string> unreadable)
    {
        var ranges = new List<PortRange>();
        var ok = true;
        foreach (var text in texts ?? [])
        {
            if (PortRange.TryParse(text, out var range, out _)) ranges.Add(range);
            else
            {
                unreadable.Add($"port rule '{text}'");
                ok = false;
            }
        }
        return ok ? Merge(ranges) : null;
    }

    /// <summary>Sorted, without duplicates and without prefixes covered by another one.</summary>
    public static List<IpPrefix> Minimal(IEnumerable<IpPrefix> prefixes)
    {
        var result = new List<IpPrefix>();
        // Sorted by address then length, a covering prefix comes before everything it covers.
        foreach (var prefix in prefixes.Distinct().Order())
            if (!result.Any(kept => kept.Covers(prefix))) result.Add(prefix);
        return result;
    }

    /// <summary>Sorted ranges per protocol, overlapping and adjacent ones merged.</summary>
    public static List<PortRange> Merge(IEnumerable<PortRange> ranges)
    {
        var result = new List<PortRange>();
        foreach (var range in ranges.Order())
        {
            if (result.Count > 0 && result[^1] is var last && last.Protocol == range.Protocol && range.From <= last.To + 1)
                result[^1] = last with { To = Math.Max(last.To, range.To) };
            else result.Add(range);
        }
        return result;
    }
}
