using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Wirety.Agent.Logging;
using Wirety.Agent.WireGuard;
using Wirety.Events.Addressing;

namespace Wirety.Agent.Forwarding;

/// <summary>What a peer that forwards for others (a jump, a route's peer) needs from the host beyond WireGuard: IP forwarding and NAT.</summary>
public interface IForwarding
{
    /// <summary>Turns on IPv4 forwarding (<c>/proc/sys/net/ipv4/ip_forward</c>) if it is off. Never turns it off.</summary>
    Task EnableIpForwardingAsync(CancellationToken ct);

    /// <summary>
    /// Makes Wirety's masquerade rules exactly one per source (traffic from it leaving through any
    /// interface but <paramref name="iface"/>): adds missing rules, removes stale ones, and leaves
    /// every rule without Wirety's tag alone. An empty list removes all of Wirety's rules.
    /// </summary>
    /// <returns>What changed, for the log; empty when nothing did.</returns>
    Task<IReadOnlyList<string>> ApplyMasqueradeAsync(string iface, IReadOnlyList<IpPrefix> sources, CancellationToken ct);
}

/// <summary>
/// <see cref="IForwarding"/> with nftables (its own table, <c>inet wirety</c>) when <c>nft</c> is
/// installed, else iptables/ip6tables (rules in the nat table's POSTROUTING, tagged by comment).
/// Without either, masquerading is skipped with a warning; the tunnel itself still works.
/// </summary>
public sealed partial class HostForwarding(ICommandRunner runner, AgentLog log) : IForwarding
{
    public const string NftTable = "wirety";
    private const string IpForward = "/proc/sys/net/ipv4/ip_forward";
    private bool _warnedNoTool;

    public async Task EnableIpForwardingAsync(CancellationToken ct)
    {
        var current = (await runner.ReadFileAsync(IpForward, ct).ConfigureAwait(false))?.Trim();
        if (current == "1") return;
        await runner.WriteFileAsync(IpForward, "1\n", ct).ConfigureAwait(false);
        log.Info("enabled IPv4 forwarding (net.ipv4.ip_forward=1): this peer forwards traffic for other peers");
    }

    public async Task<IReadOnlyList<string>> ApplyMasqueradeAsync(string iface, IReadOnlyList<IpPrefix> sources, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(sources);
        if (runner.IsAvailable("nft")) return await NftAsync(iface, sources, ct).ConfigureAwait(false);
        if (runner.IsAvailable("iptables")) return await IptablesAsync(iface, sources, ct).ConfigureAwait(false);
        if (sources.Count > 0 && !_warnedNoTool)
        {
            _warnedNoTool = true;
            log.Warn("neither nft nor iptables is installed: cannot masquerade traffic of fully encapsulated peers " +
                     "(install nftables); the tunnel itself works");
        }
        return [];
    }

    // ---- nftables: everything lives in our own table, so "stale" is simply "in our table, not wanted".

    private async Task<IReadOnlyList<string>> NftAsync(string iface, IReadOnlyList<IpPrefix> sources, CancellationToken ct)
    {
        var listed = await Nft(["-j", "list", "chain", "inet", NftTable, "postrouting"], ct).ConfigureAwait(false);
        var installed = listed.Succeeded ? ParseNftRules(listed.Stdout) : [];
        var changes = new List<string>();

        if (sources.Count == 0)
        {
            var table = await Nft(["list", "table", "inet", NftTable], ct).ConfigureAwait(false);
            if (table.Succeeded)
            {
                (await Nft(["delete", "table", "inet", NftTable], ct).ConfigureAwait(false)).OrThrow();
                changes.Add($"removed nftables table inet {NftTable} ({installed.Count} masquerade rule(s))");
            }
            return changes;
        }

        if (!listed.Succeeded)
        {
            (await Nft(["add", "table", "inet", NftTable], ct).ConfigureAwait(false)).OrThrow();
            (await Nft(["add", "chain", "inet", NftTable, "postrouting",
                "{", "type", "nat", "hook", "postrouting", "priority", "100", ";", "policy", "accept", ";", "}"], ct).ConfigureAwait(false)).OrThrow();
        }

        var (add, remove) = MasqueradeRules.Plan(sources, iface, installed);
        foreach (var rule in remove)
        {
            (await Nft(["delete", "rule", "inet", NftTable, "postrouting", "handle", rule.Id], ct).ConfigureAwait(false)).OrThrow();
            changes.Add($"removed masquerade rule '{rule.Comment}'");
        }
        foreach (var source in add)
        {
            var comment = MasqueradeRules.Comment(source, iface);
            (await Nft(["add", "rule", "inet", NftTable, "postrouting",
                source.IsIPv4 ? "ip" : "ip6", "saddr", source.ToString(),
                "oifname", "!=", $"\"{iface}\"", "masquerade", "comment", $"\"{comment}\""], ct).ConfigureAwait(false)).OrThrow();
            changes.Add($"masquerading {source.ToString()} (nftables)");
        }
        return changes;
    }

    /// <summary>Rules of <c>nft -j list chain ...</c> that carry Wirety's tag, with their handles.</summary>
    public static List<MasqueradeRules.Installed> ParseNftRules(string json)
    {
        var result = new List<MasqueradeRules.Installed>();
        using var doc = JsonDocument.Parse(json);
        if (!doc.RootElement.TryGetProperty("nftables", out var items)) return result;
        foreach (var item in items.EnumerateArray())
        {
            if (!item.TryGetProperty("rule", out var rule)) continue;
            var comment = rule.TryGetProperty("comment", out var c) ? c.GetString() : null;
            if (!rule.TryGetProperty("handle", out var h) || !h.TryGetInt64(out var handle)) continue;
            // Everything in our table is ours; an untagged rule is stale by definition.
            result.Add(new MasqueradeRules.Installed(comment ?? "", handle.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        return result;
    }

    // ---- iptables: shared chain, so only rules with our tag are touched.

    private async Task<IReadOnlyList<string>> IptablesAsync(string iface, IReadOnlyList<IpPrefix> sources, CancellationToken ct)
    {
        var changes = new List<string>();
        foreach (var v4 in (bool[])[true, false])
        {
            var tool = v4 ? "iptables" : "ip6tables";
            var wanted = sources.Where(s => s.IsIPv4 == v4).ToList();
            if (!runner.IsAvailable(tool))
            {
                if (wanted.Count > 0) log.Warn($"{tool} is not installed: cannot masquerade {string.Join(", ", wanted.Select(p => p.ToString()))}");
                continue;
            }
            var listed = await runner.RunAsync(tool, ["-t", "nat", "-S", "POSTROUTING"], null, ct).ConfigureAwait(false);
            if (!listed.Succeeded)
            {
                if (wanted.Count > 0) listed.OrThrow();
                continue;
            }
            var (add, remove) = MasqueradeRules.Plan(wanted, iface, ParseIptablesRules(listed.Stdout));
            foreach (var rule in remove)
            {
                // The -S line with -A turned into -D deletes exactly that rule.
                var args = new List<string> { "-t", "nat" };
                args.AddRange(SplitShellWords(rule.Id).Select((w, i) => i == 0 && w == "-A" ? "-D" : w));
                (await runner.RunAsync(tool, args, null, ct).ConfigureAwait(false)).OrThrow();
                changes.Add($"removed masquerade rule '{rule.Comment}'");
            }
            foreach (var source in add)
            {
                (await runner.RunAsync(tool, ["-t", "nat", "-A", "POSTROUTING", "-s", source.ToString(), "!", "-o", iface,
                    "-m", "comment", "--comment", MasqueradeRules.Comment(source, iface), "-j", "MASQUERADE"], null, ct).ConfigureAwait(false)).OrThrow();
                changes.Add($"masquerading {source.ToString()} ({tool})");
            }
        }
        return changes;
    }

    /// <summary>Tagged rules of <c>iptables -t nat -S POSTROUTING</c>; the id is the whole -S line.</summary>
    public static List<MasqueradeRules.Installed> ParseIptablesRules(string text)
    {
        var result = new List<MasqueradeRules.Installed>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!line.StartsWith("-A ", StringComparison.Ordinal)) continue;
            var match = CommentPattern().Match(line);
            if (!match.Success) continue;
            var comment = match.Groups[1].Success ? match.Groups[1].Value : match.Groups[2].Value;
            if (!comment.StartsWith(MasqueradeRules.Tag, StringComparison.Ordinal)) continue;
            result.Add(new MasqueradeRules.Installed(comment, line));
        }
        return result;
    }

    /// <summary>Splits an iptables -S line into words (double quotes group, backslash escapes inside them).</summary>
    public static List<string> SplitShellWords(string line)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        bool inQuotes = false, any = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (inQuotes)
            {
                if (c == '\\' && i + 1 < line.Length) current.Append(line[++i]);
                else if (c == '"') inQuotes = false;
                else current.Append(c);
            }
            else if (c == '"') { inQuotes = true; any = true; }
            else if (char.IsWhiteSpace(c))
            {
                if (any) words.Add(current.ToString());
                current.Clear();
                any = false;
            }
            else { current.Append(c); any = true; }
        }
        if (any) words.Add(current.ToString());
        return words;
    }

    [GeneratedRegex("""--comment (?:"((?:[^"\\]|\\.)*)"|(\S+))""")]
    private static partial Regex CommentPattern();

    private Task<CommandResult> Nft(IReadOnlyList<string> args, CancellationToken ct) => runner.RunAsync("nft", args, null, ct);
}
