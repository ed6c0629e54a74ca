using Wirety.Agent.Logging;
using Wirety.Agent.WireGuard;

namespace Wirety.Agent.Filtering;

/// <summary>Enforces the server's packet filter on the WireGuard interface.</summary>
public interface IPacketFilter
{
    /// <summary>
    /// Makes the host's filter for <paramref name="iface"/> exactly <paramref name="ruleset"/>, atomically
    /// (the old filter stays in force until the new one is complete), and changes nothing when it already
    /// is. Null removes the agent's filter. Never touches what the agent does not own.
    /// </summary>
    /// <returns>What changed, for the log; empty when nothing did.</returns>
    Task<IReadOnlyList<string>> ApplyAsync(string iface, FilterRuleset? ruleset, CancellationToken ct);
}

/// <summary>
/// <see cref="IPacketFilter"/> with nftables (its own table, <c>inet wirety_filter</c>) when <c>nft</c>
/// is installed, else iptables and ip6tables (own chains <c>WIRETY-INPUT</c>/<c>WIRETY-FORWARD</c> in the
/// filter table). Without either, the filter is skipped with a warning; the tunnel itself still works.
/// To avoid rewriting the filter on every pass, it remembers what the tool listed right after the agent
/// installed it and rewrites only when the wanted rules or that listing changed (after a restart, the
/// first pass rewrites once).
/// </summary>
public sealed class HostFilter(ICommandRunner runner, AgentLog log) : IPacketFilter
{
    private readonly Dictionary<string, (string Wanted, string Listed)> _installed = [];
    private readonly HashSet<string> _warned = [];

    public async Task<IReadOnlyList<string>> ApplyAsync(string iface, FilterRuleset? ruleset, CancellationToken ct)
    {
        if (runner.IsAvailable("nft")) return await NftAsync(iface, ruleset, ct).ConfigureAwait(false);
        if (runner.IsAvailable("iptables")) return await IptablesAsync(iface, ruleset, ct).ConfigureAwait(false);
        if (ruleset is not null)
            WarnOnce("neither nft nor iptables is installed: the packet filter for " + iface +
                     " is not enforced (install nftables); the tunnel itself works");
        return [];
    }

    // ---- nftables: the whole table is ours and replaced in one transaction.

    private async Task<IReadOnlyList<string>> NftAsync(string iface, FilterRuleset? ruleset, CancellationToken ct)
    {
        var table = $"inet {NftFilterRules.Table}";
        var listed = await ListNftAsync(ct).ConfigureAwait(false);
        if (ruleset is null)
        {
            _installed.Remove("nft");
            if (listed is null) return [];
            (await runner.RunAsync("nft", ["delete", "table", "inet", NftFilterRules.Table], null, ct).ConfigureAwait(false)).OrThrow();
            return [$"removed the packet filter for {iface} (nftables table {table})"];
        }

        var wanted = NftFilterRules.Transaction(iface, ruleset);
        var verb = Verb("nft", wanted, listed);
        if (verb is null) return [];
        (await runner.RunAsync("nft", ["-f", "-"], wanted, ct).ConfigureAwait(false)).OrThrow($"nft -f - (table {table})");
        _installed["nft"] = (wanted, await ListNftAsync(ct).ConfigureAwait(false) ?? "");
        return [$"{verb} the packet filter for {iface}: {Summary(ruleset)} (nftables table {table})"];
    }

    private async Task<string?> ListNftAsync(CancellationToken ct)
    {
        var result = await runner.RunAsync("nft", ["list", "table", "inet", NftFilterRules.Table], null, ct).ConfigureAwait(false);
        return result.Succeeded ? result.Stdout : null;
    }

    // ---- iptables: our chains and the jumps to them; everything else in the filter table is left alone.

    private async Task<IReadOnlyList<string>> IptablesAsync(string iface, FilterRuleset? ruleset, CancellationToken ct)
    {
        var changes = new List<string>();
        foreach (var (tool, ipv4) in new[] { ("iptables", true), ("ip6tables", false) })
        {
            if (!runner.IsAvailable(tool))
            {
                if (ruleset is not null)
                    WarnOnce($"{tool} is not installed: {(ipv4 ? "IPv4" : "IPv6")} packets arriving on {iface} are not filtered");
                continue;
            }
            var listing = await runner.RunAsync(tool, ["-w", "-S"], null, ct).ConfigureAwait(false);
            if (!listing.Succeeded)
            {
                if (ruleset is null) continue; // nothing of ours can be there to remove
                listing.OrThrow();
            }
            var own = IptablesFilterRules.OwnLines(listing.Stdout);
            var listed = own.Count == 0 ? null : string.Join('\n', own);
            if (ruleset is null)
            {
                _installed.Remove(tool);
                if (listed is null) continue;
                await RestoreAsync(tool, IptablesFilterRules.Restore(iface, null, ipv4, own), ct).ConfigureAwait(false);
                changes.Add($"removed the packet filter for {iface} ({tool} chains {IptablesFilterRules.InputChain}, {IptablesFilterRules.ForwardChain})");
                continue;
            }

            var wanted = IptablesFilterRules.Restore(iface, ruleset, ipv4, []);
            var verb = Verb(tool, wanted, listed);
            if (verb is null) continue;
            await RestoreAsync(tool, IptablesFilterRules.Restore(iface, ruleset, ipv4, own), ct).ConfigureAwait(false);
            var after = (await runner.RunAsync(tool, ["-w", "-S"], null, ct).ConfigureAwait(false)).OrThrow();
            _installed[tool] = (wanted, string.Join('\n', IptablesFilterRules.OwnLines(after.Stdout)));
            changes.Add(ipv4
                ? $"{verb} the packet filter for {iface}: {Summary(ruleset)} (iptables chains {IptablesFilterRules.InputChain}" +
                  (ruleset.Forward is null ? ")" : $", {IptablesFilterRules.ForwardChain})")
                : $"{verb} the IPv6 packet filter for {iface}: replies only (ip6tables)");
        }
        return changes;
    }

    private async Task RestoreAsync(string tool, string input, CancellationToken ct) =>
        (await runner.RunAsync($"{tool}-restore", ["-w", "--noflush"], input, ct).ConfigureAwait(false)).OrThrow($"{tool}-restore --noflush");

    /// <summary>Null when what is installed is what the agent installed for these rules; else what writing it does.</summary>
    private string? Verb(string tool, string wanted, string? listed)
    {
        if (listed is null) return "installed";
        if (!_installed.TryGetValue(tool, out var last)) return "rewrote"; // first pass since the agent started
        if (last.Listed != listed) return last.Wanted == wanted ? "restored (it had been changed outside the agent)" : "replaced (it had been changed outside the agent)";
        return last.Wanted == wanted ? null : "updated";
    }

    private static string Summary(FilterRuleset ruleset) =>
        $"{ruleset.Input.Count} input rule(s)" + (ruleset.Forward is { } forward ? $", {forward.Count} forward rule(s)" : "");

    private void WarnOnce(string message)
    {
        if (_warned.Add(message)) log.Warn(message);
    }
}
