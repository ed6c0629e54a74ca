using System.Net;
using Wirety.Events.Addressing;

namespace Wirety.Agent.Forwarding;

/// <summary>
/// Wirety's masquerade rules are recognized by their comment, <c>wirety-masq PREFIX IFACE</c>: the
/// comment says what the rule does, so stale rules can be found and removed without parsing the
/// match expressions of nft or iptables.
/// </summary>
public static class MasqueradeRules
{
    public const string Tag = "wirety-masq";

    public static string Comment(IpPrefix source, string iface) => $"{Tag} {source.ToString()} {iface}";

    public static bool TryParseComment(string? comment, out IpPrefix source, out string iface)
    {
        source = default;
        iface = "";
        var parts = comment?.Split(' ') ?? [];
        if (parts.Length != 3 || parts[0] != Tag || !IpPrefix.TryNormalize(parts[1], out source)) return false;
        iface = parts[2];
        return true;
    }

    /// <summary>An installed rule carrying Wirety's tag; <paramref name="Id"/> is what deletes it (nft handle, iptables spec).</summary>
    public sealed record Installed(string Comment, string Id);

    /// <summary>
    /// Which sources still need a rule, and which installed rules are stale (source no longer wanted,
    /// other interface, duplicate, or a tag this version cannot read). Pure.
    /// </summary>
    public static (IReadOnlyList<IpPrefix> Add, IReadOnlyList<Installed> Remove) Plan(
        IReadOnlyList<IpPrefix> desired, string iface, IReadOnlyList<Installed> installed)
    {
        var wanted = desired.Distinct().ToList();
        var kept = new HashSet<IpPrefix>();
        var remove = new List<Installed>();
        foreach (var rule in installed)
        {
            if (TryParseComment(rule.Comment, out var source, out var ruleIface)
                && ruleIface == iface && wanted.Contains(source) && kept.Add(source))
                continue;
            remove.Add(rule);
        }
        return (wanted.Where(s => !kept.Contains(s)).ToList(), remove);
    }
}
