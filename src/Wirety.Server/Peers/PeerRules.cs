using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Wirety.Events.Addressing;
using Wirety.Events.Peers;
using Wirety.Projections.Networks;
using Wirety.Server.Routes;

namespace Wirety.Server.Peers;

/// <summary>Field rules shared by peer create and update. Each returns null when the value is fine.</summary>
public static partial class PeerRules
{
    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\z")]
    private static partial Regex DnsLabel();

    public static string? Name(string? name) => name is not null && DnsLabel().IsMatch(name)
        ? null
        : "name is required and must be a DNS label: 1–63 lowercase letters, digits or '-', not starting or ending with '-'.";

    public static string? NameTaken(Network network, string name, Guid? except) =>
        network.Peers.Any(p => p.Id != except && string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
            ? $"A peer named '{name}' already exists in network '{network.Name}'."
            : null;

    public static bool TryParseKind(string? kind, out PeerKind parsed)
    {
        parsed = default;
        return kind is "jump" or "dynamic" or "static" && Enum.TryParse(kind, ignoreCase: true, out parsed);
    }

    /// <summary><c>host:port</c> where host is an IPv4 address, a bracketed IPv6 address or a DNS name.</summary>
    public static string? Endpoint(string? endpoint) => endpoint is null ? null : WireGuardEndpoint.Read(endpoint, out _) switch
    {
        EndpointSyntax.Valid => null,
        EndpointSyntax.BadPort =>
            $"endpoint '{endpoint}' must be host:port with a port from 1 to 65535 (e.g. vpn.example.com:51820 or [2001:db8::1]:51820).",
        _ => $"endpoint '{endpoint}' has an invalid host; use an IPv4 address, [IPv6] or a DNS name.",
    };

    public static string? ListenPort(int? port) =>
        port is null or 0 or (>= 1 and <= 65535) ? null : "listenPort must be between 1 and 65535.";

    /// <summary>
    /// Routes behind the peer: each a valid prefix, not /0 (that is what fullEncapsulation is for), not
    /// inside or around the network's own range, not claimed by another peer — WireGuard routes a
    /// prefix to one peer only — and not covering a peer's endpoint or the server (<see cref="RouteRules.Covers"/>).
    /// A prefix the peer already has is not checked again for the last rule: stored values stay as they are
    /// (they predate it) and an update that keeps them goes through.
    /// </summary>
    public static string? AdditionalAllowedIps(
        IReadOnlyList<string>? prefixes, Network network, Guid? peerId, out ImmutableArray<string> canonical,
        ProtectedAddresses? protectedAddresses = null)
    {
        if (!IpPrefix.TryParseAll(prefixes, out canonical, out var error)) return "additionalAllowedIps: " + error;
        var networkPrefix = Ipv4Cidr.Parse(network.Cidr).Prefix;
        foreach (var text in canonical)
        {
            var prefix = IpPrefix.Parse(text);
            if (prefix.PrefixLength == 0)
                return $"additionalAllowedIps: {text} would route everything to this peer; use fullEncapsulation on the clients instead.";
            if (prefix.Overlaps(networkPrefix))
                return $"additionalAllowedIps: {text} overlaps the network's own range {network.Cidr}.";
            var owner = network.Peers.FirstOrDefault(p => p.Id != peerId
                && p.AdditionalAllowedIps.Any(other => IpPrefix.Parse(other).Overlaps(prefix)));
            if (owner is not null)
                return $"additionalAllowedIps: {text} overlaps a route of peer '{owner.Name}'.";
            if (peerId is { } id && network.FindPeer(id)?.AdditionalAllowedIps.Contains(text) == true) continue;
            if (RouteRules.Covers(prefix, network, protectedAddresses ?? ProtectedAddresses.None) is { } covers)
                return "additionalAllowedIps: " + covers;
        }
        return null;
    }

    /// <summary>Flags that only make sense for some kinds.</summary>
    public static string? KindFlags(PeerKind kind, string? endpoint, bool isolated, bool fullEncapsulation) => kind switch
    {
        PeerKind.Jump when endpoint is null => "endpoint is required for a jump peer: it is how the others reach it.",
        PeerKind.Jump when isolated => "a jump peer cannot be isolated.",
        PeerKind.Jump when fullEncapsulation => "a jump peer cannot be fully encapsulated; it is the exit for the others.",
        _ => null,
    };
}
