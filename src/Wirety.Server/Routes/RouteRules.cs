using System.Net;
using Wirety.Events.Addressing;
using Wirety.Events.Peers;
using Wirety.Projections.Networks;
using Wirety.Server.Peers;

namespace Wirety.Server.Routes;

/// <summary>
/// What a prefix routed into the tunnel (a route, or a peer's <c>additionalAllowedIps</c>) may not cover: the
/// network's own range (those addresses are the peers'), any peer's endpoint address (declared, or observed
/// from its heartbeats, when it is an IP literal: the tunnel to that peer would route into itself) and the
/// server's addresses (peers would lose their control plane). The exit-node route <c>0.0.0.0/0</c> is the one
/// exception (see <see cref="AddRoute"/>): the agents keep the server and the endpoints outside the tunnel.
/// </summary>
public static class RouteRules
{
    /// <returns>Why <paramref name="prefix"/> may not be routed into the tunnel, or null when it may.</returns>
    public static string? Covers(IpPrefix prefix, Network network, ProtectedAddresses protectedAddresses)
    {
        if (prefix.Overlaps(Ipv4Cidr.Parse(network.Cidr).Prefix))
            return $"{prefix} overlaps the network's own range {network.Cidr}.";
        foreach (var peer in network.Peers)
            foreach (var endpoint in new[] { peer.Endpoint, peer.ObservedEndpoint })
                if (AddressOf(endpoint) is { } address && prefix.Contains(address))
                    return $"{prefix} covers {address}, the endpoint of peer '{peer.Name}': the tunnel to it would be routed into itself.";
        foreach (var address in protectedAddresses.Server)
            if (prefix.Contains(address))
                return $"{prefix} covers {address}, an address of this server: peers routing it into the tunnel would lose the server.";
        return null;
    }

    /// <summary>The IP of an endpoint written as an IP literal; null for a DNS name (it cannot be checked) or no endpoint.</summary>
    public static IPAddress? AddressOf(string? endpoint)
    {
        if (WireGuardEndpoint.HostOf(endpoint) is not { } host) return null;
        var zone = host.IndexOf('%');
        return IPAddress.TryParse(zone < 0 ? host : host[..zone], out var address) ? IpAddresses.Unmapped(address) : null;
    }

    /// <summary>Whether a peer may carry the exit-node route: not a jump (a jump's clients use fullEncapsulation).</summary>
    public static string? ExitVia(PeerState via) => via.Kind == PeerKind.Jump
        ? $"0.0.0.0/0 through jump peer '{via.Name}' is not a route: use fullEncapsulation on the peers that should exit through the jump."
        : null;
}
