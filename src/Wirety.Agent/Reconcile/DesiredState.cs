using System.Net;
using Wirety.Agent.Identity;
using Wirety.Events.Addressing;
using Wirety.Events.Agent;
using Wirety.Events.Peers;

namespace Wirety.Agent.Reconcile;

/// <summary>
/// What the interface should look like, derived from an <see cref="AgentConfig"/>: parsed, validated
/// and normalized, so the reconciler compares values rather than strings.
/// </summary>
/// <param name="PublicKey">This agent's public key: the interface must hold the matching private key.</param>
/// <param name="ListenPort">Null: the config leaves the port to WireGuard, so any port is fine.</param>
/// <param name="Routes">Main-table routes to the interface: the peers' AllowedIPs without the default
/// routes (see <see cref="FullTunnelIPv4"/>), without the interface's own host address, and without
/// prefixes another desired route already covers.</param>
public sealed record DesiredState(
    string PublicKey,
    int? ListenPort,
    int Mtu,
    IReadOnlyList<InterfaceAddress> Addresses,
    IReadOnlyList<DesiredPeer> Peers,
    IReadOnlyList<IpPrefix> Routes,
    bool FullTunnelIPv4,
    bool FullTunnelIPv6,
    IReadOnlyList<string> Warnings)
{
    /// <summary>
    /// Host routes (/32, /128) for the server's addresses that must stay outside the tunnel because the
    /// full tunnel or a route covers them; empty when nothing does.
    /// </summary>
    public IReadOnlyList<IpPrefix> ServerBypass { get; init; } = [];

    /// <summary>WireGuard's usual MTU (1500 minus the 80 bytes of IPv6 + UDP + WireGuard overhead), as wg-quick picks.</summary>
    public const int DefaultMtu = 1420;

    /// <summary>Builds the desired state; problems the agent can work around become <see cref="Warnings"/>.</summary>
    /// <param name="policy">What this host allows (flags, enrolled kind); null applies everything the config asks.</param>
    /// <exception cref="InvalidConfigException">The config cannot be applied at all (no usable address).</exception>
    public static DesiredState From(AgentConfig config, string ownPublicKey, LocalPolicy? policy = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        policy ??= LocalPolicy.TrustServer;
        // A loopback server is reached through the local table, which no tunnel route overrides.
        var servers = policy.ServerAddresses.Where(a => !IPAddress.IsLoopback(a)).Select(IpPrefix.Host).Distinct().ToList();
        if (config.Interface is null) throw new InvalidConfigException("the config has no interface section");
        var warnings = new List<string>();

        var addresses = new List<InterfaceAddress>();
        foreach (var part in (config.Interface.Address ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (InterfaceAddress.TryParse(part, out var address)) addresses.Add(address);
            else throw new InvalidConfigException($"the interface address '{part}' is not an IP address with prefix");
        }
        if (addresses.Count == 0) throw new InvalidConfigException("the config has no interface address");

        if (config.Interface.ListenPort is { } port && port is < 1 or > 65535)
            throw new InvalidConfigException($"listen port {port} is out of range");
        if (config.Interface.Mtu is { } mtu && mtu is < 576 or > 9000)
            throw new InvalidConfigException($"MTU {mtu} is out of range");

        var ownHosts = addresses.Select(a => IpPrefix.Host(a.Address)).ToHashSet();
        var claimed = new HashSet<IpPrefix>();
        var seenKeys = new HashSet<string>(StringComparer.Ordinal);
        var peers = new List<DesiredPeer>();
        foreach (var peer in config.Peers ?? [])
        {
            if (!WireGuardKey.IsWellFormed(peer.PublicKey))
            {
                warnings.Add($"skipping a peer with a malformed public key '{peer.PublicKey}'");
                continue;
            }
            if (peer.PublicKey == ownPublicKey)
            {
                warnings.Add("skipping a peer entry with this agent's own public key");
                continue;
            }
            if (!seenKeys.Add(peer.PublicKey))
            {
                warnings.Add($"skipping a second entry for peer {peer.PublicKey}");
                continue;
            }
            string? endpoint = null;
            if (peer.Endpoint is not null)
            {
                if (WireGuardEndpoint.IsWellFormed(peer.Endpoint)) endpoint = peer.Endpoint;
                else warnings.Add($"peer {peer.PublicKey}: ignoring malformed endpoint '{peer.Endpoint}'");
            }
            var allowed = new List<IpPrefix>();
            foreach (var text in peer.AllowedIps ?? [])
            {
                if (!IpPrefix.TryNormalize(text, out var prefix))
                {
                    warnings.Add($"peer {peer.PublicKey}: ignoring malformed allowed IP '{text}'");
                    continue;
                }
                if (!policy.AllowFullTunnel && LeftOut(prefix, servers) is { } why)
                {
                    warnings.Add($"peer {peer.PublicKey}: leaving out {prefix.ToString()}: {why} (pass --allow-full-tunnel to apply it)");
                    continue;
                }
                // WireGuard gives a prefix to one peer only: a second claim would silently move it.
                if (!claimed.Add(prefix))
                {
                    warnings.Add($"peer {peer.PublicKey}: {prefix.ToString()} already belongs to another peer; ignored");
                    continue;
                }
                allowed.Add(prefix);
            }
            var keepalive = peer.PersistentKeepalive is { } k && k > 0 ? Math.Min(k, 65535) : 0;
            peers.Add(new DesiredPeer(peer.PublicKey, endpoint, allowed, keepalive));
        }

        // A jump never routes its own traffic into the tunnel; the kind pinned at enrollment counts as well as the config's.
        var isJump = policy.EnrolledAsJump || string.Equals(config.Kind, "jump", StringComparison.OrdinalIgnoreCase);
        var all = peers.SelectMany(p => p.AllowedIps).ToList();
        var full4 = all.Any(p => p.IsDefault && p.IsIPv4);
        var full6 = all.Any(p => p.IsDefault && !p.IsIPv4);
        if (isJump && (full4 || full6))
        {
            warnings.Add("a jump peer's config routes a default route through the tunnel; not applied to this host's routing");
            full4 = full6 = false;
        }

        var candidates = all.Where(p => !p.IsDefault && !ownHosts.Contains(p)).Distinct().ToList();
        // Every route points at the same interface, so one covered by a wider one adds nothing.
        var routes = candidates
            .Where(p => !candidates.Any(q => !q.Equals(p) && q.Covers(p)))
            .Order()
            .ToList();

        var bypass = servers
            .Where(server => (server.IsIPv4 ? full4 : full6) || routes.Any(r => r.Covers(server)))
            .Order()
            .ToList();

        return new DesiredState(ownPublicKey, config.Interface.ListenPort, config.Interface.Mtu ?? DefaultMtu,
            addresses, peers, routes, full4, full6, warnings) { ServerBypass = bypass };
    }

    /// <summary>Why a prefix needs <c>--allow-full-tunnel</c>, or null when it does not.</summary>
    private static string? LeftOut(IpPrefix prefix, IReadOnlyList<IpPrefix> servers)
    {
        if (prefix.IsDefault) return "a default route through the tunnel would carry all of this host's traffic";
        foreach (var server in servers)
            if (prefix.Covers(server))
                return $"it covers the server's address {server.BaseAddress} and would carry the agent's own control traffic into the tunnel";
        return null;
    }
}

public sealed record DesiredPeer(string PublicKey, string? Endpoint, IReadOnlyList<IpPrefix> AllowedIps, int PersistentKeepalive);

/// <summary>A config the agent cannot apply; it keeps the last good one.</summary>
public sealed class InvalidConfigException(string message) : Exception(message);
