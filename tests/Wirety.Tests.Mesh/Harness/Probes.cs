using System.Diagnostics;
using System.Globalization;

namespace Wirety.Tests.Mesh.Harness;

/// <summary>One peer line of <c>wg show IF dump</c>.</summary>
public sealed record WgPeer(string PublicKey, string? Endpoint, IReadOnlyList<string> AllowedIps, DateTimeOffset? LatestHandshake, long RxBytes, long TxBytes)
{
    public override string ToString() =>
        $"{PublicKey[..8]}… endpoint={Endpoint ?? "(none)"} allowed-ips={string.Join(',', AllowedIps)} " +
        $"latest-handshake={(LatestHandshake is { } h ? h.ToString("HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "never")} rx={RxBytes} tx={TxBytes}";
}

/// <summary>The outcome of a ping (or a series of them until one answered).</summary>
public sealed record PingResult(string From, string To, bool Succeeded, int Attempts, TimeSpan Elapsed, string Output)
{
    /// <summary>The reply line, e.g. "64 bytes from 10.99.0.3: icmp_seq=1 ttl=64 time=0.512 ms".</summary>
    public string Reply => Output.Split('\n').FirstOrDefault(l => l.Contains("bytes from", StringComparison.Ordinal))?.Trim()
                           ?? Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.Trim() ?? "";

    public override string ToString() =>
        $"{From} → {To}: {(Succeeded ? "ok" : "FAILED")} after {Attempts} attempt(s), {Elapsed.TotalSeconds:0.0} s: {Reply}";
}

/// <summary>
/// The agent's packet filter as <c>nft list table inet wirety_filter</c> shows it: the rules of each chain
/// in order (the chain's <c>type filter hook …</c> line left out). <see cref="Exists"/> is false without the table.
/// </summary>
public sealed record NftTable(bool Exists, string Text, IReadOnlyDictionary<string, IReadOnlyList<string>> Chains)
{
    public IReadOnlyList<string> Chain(string name) => Chains.TryGetValue(name, out var rules) ? rules : [];

    /// <summary>The chain's rules after the agent's fixed preamble (own interface only, replies, related, IPv4 only): the policy part.</summary>
    public IReadOnlyList<string> PolicyRules(string chain) =>
        [.. Chain(chain).Where(r => !(r.StartsWith("iifname ", StringComparison.Ordinal) || r.StartsWith("ct ", StringComparison.Ordinal) || r.StartsWith("meta nfproto", StringComparison.Ordinal)))];

    public override string ToString() => !Exists ? "(no table inet wirety_filter)"
        : string.Join("; ", Chains.Select(c => $"{c.Key}: [{string.Join(" | ", PolicyRules(c.Key))}]"));
}

/// <summary>Observations inside a host's namespace: pings, WireGuard's own view of its peers, the packet filter.</summary>
public static class Probes
{
    /// <summary>One <c>ping -c1 -W1</c> from inside <paramref name="from"/>.</summary>
    public static async Task<PingResult> PingOnceAsync(MeshHost from, string to, string toName)
    {
        var clock = Stopwatch.StartNew();
        var r = await Sh.InNamespaceAsync(from.Namespace, "ping", "-n", "-c", "1", "-W", "1", to);
        return new PingResult(from.Role, $"{toName} ({to})", r.ExitCode == 0, 1, clock.Elapsed, (r.Stdout + r.Stderr).Trim());
    }

    /// <summary>Pings until one answers or <paramref name="timeout"/> passes (no fixed sleeps: each failed ping waits its own 1 s).</summary>
    public static async Task<PingResult> PingUntilAnsweredAsync(MeshHost from, string to, string toName, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            var r = await PingOnceAsync(from, to, toName);
            if (r.Succeeded || clock.Elapsed >= timeout) return r with { Attempts = attempt, Elapsed = clock.Elapsed };
            if (r.Elapsed < TimeSpan.FromMilliseconds(200)) await Task.Delay(200); // "Network is unreachable" fails at once
        }
    }

    /// <summary>The peers of the host's WireGuard interface (the dump's first line, which holds the private key, is dropped unread).</summary>
    public static async Task<IReadOnlyList<WgPeer>> WgPeersAsync(MeshHost host)
    {
        var r = await Sh.InNamespaceAsync(host.Namespace, "wg", "show", host.WgInterface, "dump");
        if (r.ExitCode != 0) return [];
        return r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(ParsePeer).ToList();
    }

    private static WgPeer ParsePeer(string line)
    {
        // public-key, preshared-key, endpoint, allowed-ips, latest-handshake, rx, tx, persistent-keepalive
        var f = line.Split('\t');
        var handshake = long.Parse(f[4], CultureInfo.InvariantCulture);
        return new WgPeer(f[0], f[2] == "(none)" ? null : f[2],
            f[3] == "(none)" ? [] : f[3].Split(','),
            handshake == 0 ? null : DateTimeOffset.FromUnixTimeSeconds(handshake),
            long.Parse(f[5], CultureInfo.InvariantCulture), long.Parse(f[6], CultureInfo.InvariantCulture));
    }

    /// <summary>The agent's nftables table (the agent uses nftables whenever <c>nft</c> is installed, which the mesh test requires).</summary>
    public static async Task<NftTable> FilterAsync(MeshHost host)
    {
        var r = await Sh.InNamespaceAsync(host.Namespace, "nft", "list", "table", "inet", "wirety_filter");
        if (r.ExitCode != 0) return new NftTable(false, (r.Stdout + r.Stderr).Trim(), new Dictionary<string, IReadOnlyList<string>>());
        var chains = new Dictionary<string, IReadOnlyList<string>>();
        List<string>? current = null;
        foreach (var line in r.Stdout.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("chain ", StringComparison.Ordinal)) chains[line["chain ".Length..].TrimEnd('{', ' ')] = current = [];
            else if (line == "}") current = null;
            else if (current is not null && !line.StartsWith("type ", StringComparison.Ordinal)) current.Add(line);
        }
        return new NftTable(true, r.Stdout, chains);
    }

    /// <summary><c>nft list ruleset</c> inside the namespace, for failure messages.</summary>
    public static async Task<string> RulesetAsync(MeshHost host)
    {
        var r = await Sh.InNamespaceAsync(host.Namespace, "nft", "list", "ruleset");
        return r.ExitCode == 0 ? (r.Stdout.Trim().Length == 0 ? "(empty ruleset)" : r.Stdout.TrimEnd()) : $"nft list ruleset failed: {r.Stderr.Trim()}";
    }

    /// <summary>The interface's MTU as <c>ip link</c> reports it, or null without the interface.</summary>
    public static async Task<int?> MtuAsync(MeshHost host)
    {
        var r = await Sh.InNamespaceAsync(host.Namespace, "cat", $"/sys/class/net/{host.WgInterface}/mtu");
        return r.ExitCode == 0 && int.TryParse(r.Stdout.Trim(), CultureInfo.InvariantCulture, out var mtu) ? mtu : null;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or the timeout passes; returns whether it held.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout, TimeSpan? interval = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await condition()) return true;
            if (clock.Elapsed >= timeout) return false;
            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(100));
        }
    }
}
