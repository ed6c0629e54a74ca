using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Wirety.Agent.Identity;
using Wirety.Agent.Logging;
using Wirety.Events.Addressing;

namespace Wirety.Agent.WireGuard;

/// <summary>
/// <see cref="IWireGuard"/> over <c>wg</c> and <c>ip</c>. Works with the kernel module
/// (<c>ip link add IF type wireguard</c>) and with wireguard-go, which it starts when asked to
/// (<paramref name="preferUserspace"/>) or when the kernel lacks the device type.
/// Routes the agent installs carry <c>proto static</c>; only those count as its routes, so kernel
/// routes and anything else on the interface are left alone.
/// </summary>
/// <param name="runner">Runs the tools, optionally behind a prefix such as <c>ip netns exec NS</c>.</param>
public sealed class WgCommandLine(ICommandRunner runner, AgentLog log, bool preferUserspace = false) : IWireGuard
{
    /// <summary>Firewall mark on WireGuard's own packets and routing table for full-tunnel peers (wg-quick uses 51820).</summary>
    public const int FullTunnelTable = 51830;
    public const string RouteProtocol = "static";
    /// <summary>Protocol number on the agent's host routes to the server outside the tunnel (unnamed in rt_protos, so ip prints the number).</summary>
    public const string ServerRouteProtocol = "249";

    public async Task<InterfaceState?> ReadAsync(string iface, CancellationToken ct)
    {
        var link = await Ip(["-j", "link", "show", "dev", iface], ct).ConfigureAwait(false);
        if (!link.Succeeded)
        {
            if (IsMissingDevice(link)) return null;
            link.OrThrow();
        }
        var device = await ShowAsync(iface, ct).ConfigureAwait(false)
                     ?? throw new WireGuardCommandException($"interface {iface} exists but wg cannot read it (is it a WireGuard interface?)");
        var linkState = IpJson.ParseLink(link.Stdout);
        var addresses = IpJson.ParseAddresses((await Ip(["-j", "address", "show", "dev", iface], ct).ConfigureAwait(false)).OrThrow().Stdout);

        var routes = new List<IpPrefix>();
        foreach (var v6 in (bool[])[false, true])
        {
            var shown = await Ip([v6 ? "-6" : "-4", "-j", "route", "show", "dev", iface], ct).ConfigureAwait(false);
            if (!shown.Succeeded) continue; // IPv6 disabled: no IPv6 routes
            routes.AddRange(IpJson.ParseRoutes(shown.Stdout, v6)
                .Where(r => r.Protocol == RouteProtocol && r.Type is null or "unicast" && !r.Destination.IsDefault)
                .Select(r => r.Destination));
        }

        var full4 = await FullTunnelActiveAsync(iface, device, ipv6: false, ct).ConfigureAwait(false);
        var full6 = await FullTunnelActiveAsync(iface, device, ipv6: true, ct).ConfigureAwait(false);
        return new InterfaceState(device, addresses, linkState.Mtu, linkState.IsUp, routes, full4, full6)
        {
            ServerRoutes = await ServerRoutesAsync(ct).ConfigureAwait(false),
        };
    }

    public async Task<WgDevice?> ShowAsync(string iface, CancellationToken ct)
    {
        var result = await runner.RunAsync("wg", ["show", iface, "dump"], null, ct).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            // wg says "No such device", or "Protocol not supported" on kernels without WireGuard:
            // only the link itself tells whether the interface is missing or something is wrong.
            if (result.Stderr.Contains("No such device", StringComparison.Ordinal)) return null;
            var link = await Ip(["link", "show", "dev", iface], ct).ConfigureAwait(false);
            if (!link.Succeeded && IsMissingDevice(link)) return null;
            result.OrThrow();
        }
        return WgDump.Parse(result.Stdout);
    }

    public async Task CreateInterfaceAsync(string iface, CancellationToken ct)
    {
        if (!preferUserspace)
        {
            var kernel = await Ip(["link", "add", "dev", iface, "type", "wireguard"], ct).ConfigureAwait(false);
            if (kernel.Succeeded) return;
            if (kernel.Stderr.Contains("File exists", StringComparison.Ordinal)) return;
            log.Info($"kernel WireGuard is not available ({kernel.Stderr.Trim()}); starting wireguard-go for {iface}");
        }
        if (!runner.IsAvailable("wireguard-go"))
            throw new WireGuardCommandException(
                $"cannot create {iface}: " + (preferUserspace ? "" : "the kernel has no WireGuard device type and ") +
                "wireguard-go is not installed (apt-get install wireguard-go)");
        // wireguard-go daemonizes: the interface outlives the agent (fail-static) and dies with `ip link del`.
        (await runner.RunAsync("wireguard-go", [iface], null, ct).ConfigureAwait(false)).OrThrow();
    }

    public async Task DeleteInterfaceAsync(string iface, CancellationToken ct)
    {
        var result = await Ip(["link", "del", "dev", iface], ct).ConfigureAwait(false);
        if (!result.Succeeded && !IsMissingDevice(result)) result.OrThrow();
        foreach (var v6 in (bool[])[false, true])
            await DisableFullTunnelRulesAsync(iface, v6, ct).ConfigureAwait(false);
    }

    public async Task SetPrivateKeyAsync(string iface, Secret privateKey, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        // The key travels on stdin: never in argv (visible in /proc/PID/cmdline) nor in a file.
        var result = await runner.RunAsync("wg", ["set", iface, "private-key", "/dev/stdin"], privateKey.Reveal() + "\n", ct)
            .ConfigureAwait(false);
        if (!result.Succeeded)
        {
            // wg quotes a malformed key back in its error message, so its stderr is not repeated here.
            var stderr = result.Stderr.Replace(privateKey.Reveal(), "[redacted]", StringComparison.Ordinal);
            var firstLine = stderr.Split('\n')[0].Trim();
            throw new WireGuardCommandException(
                $"wg set {iface} private-key failed (exit {result.ExitCode})" +
                (firstLine.Contains("Key is not", StringComparison.Ordinal) || firstLine.Length == 0 ? "" : $": {firstLine}"));
        }
    }

    public async Task SetListenPortAsync(string iface, int port, CancellationToken ct) =>
        (await Wg(["set", iface, "listen-port", Num(port)], ct).ConfigureAwait(false)).OrThrow();

    public async Task AddAddressAsync(string iface, InterfaceAddress address, CancellationToken ct) =>
        (await Ip([address.IsIPv4 ? "-4" : "-6", "address", "replace", address.ToString(), "dev", iface], ct).ConfigureAwait(false)).OrThrow();

    public async Task RemoveAddressAsync(string iface, InterfaceAddress address, CancellationToken ct) =>
        (await Ip([address.IsIPv4 ? "-4" : "-6", "address", "del", address.ToString(), "dev", iface], ct).ConfigureAwait(false)).OrThrow();

    public async Task SetMtuAsync(string iface, int mtu, CancellationToken ct) =>
        (await Ip(["link", "set", "dev", iface, "mtu", Num(mtu)], ct).ConfigureAwait(false)).OrThrow();

    public async Task SetUpAsync(string iface, CancellationToken ct) =>
        (await Ip(["link", "set", "dev", iface, "up"], ct).ConfigureAwait(false)).OrThrow();

    public async Task SetPeerAsync(string iface, PeerSettings peer, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var args = new List<string> { "set", iface, "peer", peer.PublicKey };
        if (peer.Endpoint is not null) args.AddRange(["endpoint", peer.Endpoint]);
        args.AddRange(["allowed-ips", string.Join(',', peer.AllowedIps.Select(p => p.ToString()))]);
        args.AddRange(["persistent-keepalive", peer.PersistentKeepalive > 0 ? Num(peer.PersistentKeepalive) : "off"]);
        (await Wg(args, ct).ConfigureAwait(false)).OrThrow();
    }

    public async Task RemovePeerAsync(string iface, string publicKey, CancellationToken ct) =>
        (await Wg(["set", iface, "peer", publicKey, "remove"], ct).ConfigureAwait(false)).OrThrow();

    public async Task AddRouteAsync(string iface, IpPrefix prefix, CancellationToken ct)
    {
        if (prefix.IsDefault)
            throw new ArgumentException("The default route is never replaced; see SetFullTunnelAsync.", nameof(prefix));
        var family = prefix.IsIPv4 ? "-4" : "-6";
        var text = prefix.ToString();
        // `ip route replace` would silently move a prefix another device routes (a LAN, say) into the tunnel.
        var existing = await Ip([family, "-j", "route", "show", "exact", text], ct).ConfigureAwait(false);
        if (existing.Succeeded)
        {
            var other = IpJson.ParseRoutes(existing.Stdout, !prefix.IsIPv4)
                .FirstOrDefault(r => r.Device is not null && r.Device != iface);
            if (other is not null)
                throw new RouteConflictException($"{text} is already routed via {other.Device}; not moving it to {iface}");
        }
        (await Ip([family, "route", "replace", text, "dev", iface, "proto", RouteProtocol], ct).ConfigureAwait(false)).OrThrow();
    }

    public async Task RemoveRouteAsync(string iface, IpPrefix prefix, CancellationToken ct)
    {
        var result = await Ip([prefix.IsIPv4 ? "-4" : "-6", "route", "del", prefix.ToString(), "dev", iface], ct)
            .ConfigureAwait(false);
        if (!result.Succeeded && !result.Stderr.Contains("No such process", StringComparison.Ordinal)) result.OrThrow();
    }

    public async Task SetFullTunnelAsync(string iface, AddressFamily family, bool enabled, CancellationToken ct)
    {
        var v6 = family == AddressFamily.InterNetworkV6;
        if (!enabled)
        {
            await DisableFullTunnelRulesAsync(iface, v6, ct).ConfigureAwait(false);
            // The mark is shared by both families; drop it when neither uses it any more.
            if (!await HasOwnRuleAsync(!v6, ct).ConfigureAwait(false))
            {
                var off = await Wg(["set", iface, "fwmark", "off"], ct).ConfigureAwait(false);
                if (!off.Succeeded && !off.Stderr.Contains("No such device", StringComparison.Ordinal)) off.OrThrow();
            }
            return;
        }

        var f = v6 ? "-6" : "-4";
        var table = Num(FullTunnelTable);
        (await Wg(["set", iface, "fwmark", table], ct).ConfigureAwait(false)).OrThrow();
        (await Ip([f, "route", "replace", v6 ? "::/0" : "0.0.0.0/0", "dev", iface, "table", table, "proto", RouteProtocol], ct)
            .ConfigureAwait(false)).OrThrow();
        var rules = await RulesAsync(v6, ct).ConfigureAwait(false);
        if (!rules.Any(IsOwnRule))
            (await Ip([f, "rule", "add", "not", "fwmark", table, "table", table], ct).ConfigureAwait(false)).OrThrow();
        if (!rules.Any(IsSuppressRule))
            (await Ip([f, "rule", "add", "table", "main", "suppress_prefixlength", "0"], ct).ConfigureAwait(false)).OrThrow();
        if (!v6)
        {
            // As wg-quick: reverse-path filtering must see the mark, or replies to marked packets are dropped.
            const string srcValidMark = "/proc/sys/net/ipv4/conf/all/src_valid_mark";
            if ((await runner.ReadFileAsync(srcValidMark, ct).ConfigureAwait(false))?.Trim() != "1")
                await runner.WriteFileAsync(srcValidMark, "1\n", ct).ConfigureAwait(false);
        }
    }

    public async Task AddServerRouteAsync(string iface, IpPrefix server, CancellationToken ct)
    {
        var f = server.IsIPv4 ? "-4" : "-6";
        var address = server.BaseAddress.ToString();
        // With WireGuard's own mark the full-tunnel rule does not apply, so this is the underlay's route,
        // whether or not the full tunnel is on right now.
        var got = (await Ip([f, "-j", "route", "get", address, "mark", Num(FullTunnelTable)], ct).ConfigureAwait(false)).OrThrow();
        var route = IpJson.ParseRoutes(got.Stdout, !server.IsIPv4).FirstOrDefault();
        if (route?.Type == "local" || route?.Device == "lo") return; // the server runs on this host
        if (route?.Device is null || route.Device == iface)
            throw new WireGuardCommandException($"no route to the server {address} outside {iface}; it would be reached through the tunnel");
        var args = new List<string> { f, "route", "replace", server.ToString() };
        if (route.Gateway is not null) args.AddRange(["via", route.Gateway]);
        args.AddRange(["dev", route.Device, "proto", ServerRouteProtocol]);
        (await Ip(args, ct).ConfigureAwait(false)).OrThrow();
    }

    public async Task RemoveServerRouteAsync(string iface, IpPrefix server, CancellationToken ct)
    {
        var result = await Ip([server.IsIPv4 ? "-4" : "-6", "route", "del", server.ToString(), "proto", ServerRouteProtocol], ct).ConfigureAwait(false);
        if (!result.Succeeded && !result.Stderr.Contains("No such process", StringComparison.Ordinal)) result.OrThrow();
    }

    private async Task<List<IpPrefix>> ServerRoutesAsync(CancellationToken ct)
    {
        var routes = new List<IpPrefix>();
        foreach (var v6 in (bool[])[false, true])
        {
            var shown = await Ip([v6 ? "-6" : "-4", "-j", "route", "show", "proto", ServerRouteProtocol], ct).ConfigureAwait(false);
            if (shown.Succeeded) routes.AddRange(IpJson.ParseRoutes(shown.Stdout, v6).Select(r => r.Destination).Where(d => !d.IsDefault));
        }
        return routes;
    }

    private async Task<bool> FullTunnelActiveAsync(string iface, WgDevice device, bool ipv6, CancellationToken ct)
    {
        if (device.Fwmark != FullTunnelTable) return false;
        var rules = await RulesAsync(ipv6, ct).ConfigureAwait(false);
        if (!rules.Any(IsOwnRule) || !rules.Any(IsSuppressRule)) return false;
        var table = await Ip([ipv6 ? "-6" : "-4", "-j", "route", "show", "table", Num(FullTunnelTable)], ct).ConfigureAwait(false);
        return table.Succeeded && IpJson.ParseRoutes(table.Stdout, ipv6)
            .Any(r => r.Destination.IsDefault && (r.Device is null || r.Device == iface));
    }

    private async Task DisableFullTunnelRulesAsync(string iface, bool v6, CancellationToken ct)
    {
        var f = v6 ? "-6" : "-4";
        var table = Num(FullTunnelTable);
        var rules = await RulesAsync(v6, ct).ConfigureAwait(false);
        if (rules.Any(IsOwnRule))
        {
            foreach (var _ in rules.Where(IsOwnRule))
                await Ip([f, "rule", "del", "not", "fwmark", table, "table", table], ct).ConfigureAwait(false);
            // Added together with ours; only removed when ours was there, so a host without a Wirety
            // full tunnel keeps whatever suppress rule it had.
            foreach (var _ in rules.Where(IsSuppressRule))
                await Ip([f, "rule", "del", "table", "main", "suppress_prefixlength", "0"], ct).ConfigureAwait(false);
        }
        await Ip([f, "route", "del", v6 ? "::/0" : "0.0.0.0/0", "dev", iface, "table", table], ct).ConfigureAwait(false);
    }

    private async Task<bool> HasOwnRuleAsync(bool v6, CancellationToken ct) =>
        (await RulesAsync(v6, ct).ConfigureAwait(false)).Any(IsOwnRule);

    private async Task<List<IpJson.Rule>> RulesAsync(bool v6, CancellationToken ct)
    {
        var result = await Ip([v6 ? "-6" : "-4", "-j", "rule", "show"], ct).ConfigureAwait(false);
        return result.Succeeded ? IpJson.ParseRules(result.Stdout) : [];
    }

    private static bool IsOwnRule(IpJson.Rule r) =>
        r.Not && IpJson.IsMark(r.Fwmark, FullTunnelTable) && r.Table == Num(FullTunnelTable);

    private static bool IsSuppressRule(IpJson.Rule r) => r.Table == "main" && r.SuppressPrefixLength == 0;

    private static bool IsMissingDevice(CommandResult r) =>
        r.Stderr.Contains("does not exist", StringComparison.Ordinal) || r.Stderr.Contains("Cannot find device", StringComparison.Ordinal);

    private Task<CommandResult> Ip(IReadOnlyList<string> args, CancellationToken ct) => runner.RunAsync("ip", args, null, ct);

    private Task<CommandResult> Wg(IReadOnlyList<string> args, CancellationToken ct) => runner.RunAsync("wg", args, null, ct);

    private static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);
}
