using System.Net;
using System.Net.Sockets;
using Wirety.Agent.WireGuard;
using Wirety.Events.Addressing;

namespace Wirety.Agent.Reconcile;

/// <summary>
/// Compares the desired state with what the interface reports and returns the steps that make them
/// equal. Pure: no I/O, same inputs give the same plan. Applying the plan and planning again gives an
/// empty plan, so every pass also undoes manual drift (<c>wg set</c>, <c>ip route del</c>, ...).
/// Order: interface basics, then peer removals, updates, additions (a prefix moving between
/// peers is released before it is claimed), then stale routes out, missing routes in, and
/// full-tunnel routing last, once the peer that carries it is in place. The server's own route outside
/// the tunnel goes in before the routes and full tunnel that would cover it, and out after them.
/// </summary>
public static class Reconciler
{
    /// <param name="previous">
    /// The desired state applied in the last successful pass (null on first start without a saved
    /// config). Only used for endpoints: WireGuard roams a peer's endpoint to wherever its packets
    /// come from, so an endpoint that differs from the config is reset only when the server changed
    /// it since the last pass, or when the peer has none at all.
    /// </param>
    public static Plan Plan(DesiredState desired, InterfaceState? actual, DesiredState? previous = null)
    {
        ArgumentNullException.ThrowIfNull(desired);
        var steps = new List<PlanStep>();

        if (actual is null)
        {
            steps.Add(new CreateInterface());
            steps.Add(new SetPrivateKey());
            if (desired.ListenPort is { } port) steps.Add(new SetListenPort(port));
            steps.Add(new SetMtu(desired.Mtu));
            steps.AddRange(desired.Addresses.Select(a => new AddAddress(a)));
            steps.Add(new BringUp());
            steps.AddRange(desired.Peers.Select(p => new AddPeer(Settings(p, p.Endpoint))));
            steps.AddRange(desired.ServerBypass.Select(a => new AddServerRoute(a)));
            steps.AddRange(desired.Routes.Select(r => new AddRoute(r)));
            if (desired.FullTunnelIPv4) steps.Add(new SetFullTunnel(AddressFamily.InterNetwork, true));
            if (desired.FullTunnelIPv6) steps.Add(new SetFullTunnel(AddressFamily.InterNetworkV6, true));
            return new Plan(steps);
        }

        // Interface basics.
        if (actual.Device.PublicKey != desired.PublicKey) steps.Add(new SetPrivateKey());
        if (desired.ListenPort is { } listen && actual.Device.ListenPort != listen) steps.Add(new SetListenPort(listen));
        if (actual.Mtu != desired.Mtu) steps.Add(new SetMtu(desired.Mtu));
        steps.AddRange(actual.Addresses.Where(a => !desired.Addresses.Contains(a)).Select(a => new RemoveAddress(a)));
        steps.AddRange(desired.Addresses.Where(a => !actual.Addresses.Contains(a)).Select(a => new AddAddress(a)));
        if (!actual.IsUp) steps.Add(new BringUp());

        // Peers: removes, updates, adds.
        var wanted = desired.Peers.ToDictionary(p => p.PublicKey, StringComparer.Ordinal);
        var present = actual.Device.Peers.ToDictionary(p => p.PublicKey, StringComparer.Ordinal);
        var before = previous?.Peers.ToDictionary(p => p.PublicKey, StringComparer.Ordinal);

        steps.AddRange(actual.Device.Peers
            .Where(p => !wanted.ContainsKey(p.PublicKey))
            .OrderBy(p => p.PublicKey, StringComparer.Ordinal)
            .Select(p => new RemovePeer(p.PublicKey)));

        foreach (var peer in desired.Peers)
        {
            if (!present.TryGetValue(peer.PublicKey, out var current)) continue;
            var reasons = new List<string>();
            if (!SamePrefixes(peer.AllowedIps, current.AllowedIps)) reasons.Add("allowed IPs");
            if (peer.PersistentKeepalive != current.PersistentKeepalive) reasons.Add("keepalive");
            var setEndpoint = EndpointNeedsSet(peer, current.Endpoint, before);
            if (setEndpoint) reasons.Add("endpoint");
            if (reasons.Count > 0)
                steps.Add(new UpdatePeer(Settings(peer, setEndpoint ? peer.Endpoint : null), string.Join(", ", reasons)));
        }

        steps.AddRange(desired.Peers
            .Where(p => !present.ContainsKey(p.PublicKey))
            .Select(p => new AddPeer(Settings(p, p.Endpoint))));

        // The server's route outside the tunnel before any route or full tunnel that would cover it.
        var serverRoutes = actual.ServerRoutes.ToHashSet();
        steps.AddRange(desired.ServerBypass.Where(a => !serverRoutes.Contains(a)).Select(a => new AddServerRoute(a)));

        // Routes: stale out, missing in.
        var desiredRoutes = desired.Routes.ToHashSet();
        var actualRoutes = actual.Routes.ToHashSet();
        steps.AddRange(actual.Routes.Where(r => !desiredRoutes.Contains(r)).Distinct().Order().Select(r => new RemoveRoute(r)));
        steps.AddRange(desired.Routes.Where(r => !actualRoutes.Contains(r)).Select(r => new AddRoute(r)));

        if (desired.FullTunnelIPv4 != actual.FullTunnelIPv4) steps.Add(new SetFullTunnel(AddressFamily.InterNetwork, desired.FullTunnelIPv4));
        if (desired.FullTunnelIPv6 != actual.FullTunnelIPv6) steps.Add(new SetFullTunnel(AddressFamily.InterNetworkV6, desired.FullTunnelIPv6));
        // ...and out only after they are gone.
        var bypass = desired.ServerBypass.ToHashSet();
        steps.AddRange(actual.ServerRoutes.Where(a => !bypass.Contains(a)).Distinct().Order().Select(a => new RemoveServerRoute(a)));

        return new Plan(steps);
    }

    /// <summary>
    /// The steps from one desired state to the next without reading the interface: what a delta changes (one
    /// peer entry, or the interface section), in the same order as <see cref="Plan"/>. Used for deltas, where the
    /// interface is known to match <paramref name="previous"/> (the last pass succeeded); drift is left to the
    /// periodic full pass. Pure; only the peers, routes and basics that differ produce steps.
    /// </summary>
    public static Plan PlanChange(DesiredState previous, DesiredState desired)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(desired);
        var steps = new List<PlanStep>();
        if (previous.PublicKey != desired.PublicKey) steps.Add(new SetPrivateKey());
        if (desired.ListenPort is { } listen && previous.ListenPort != listen) steps.Add(new SetListenPort(listen));
        if (previous.Mtu != desired.Mtu) steps.Add(new SetMtu(desired.Mtu));
        steps.AddRange(previous.Addresses.Where(a => !desired.Addresses.Contains(a)).Select(a => new RemoveAddress(a)));
        steps.AddRange(desired.Addresses.Where(a => !previous.Addresses.Contains(a)).Select(a => new AddAddress(a)));

        var wanted = desired.Peers.ToDictionary(p => p.PublicKey, StringComparer.Ordinal);
        var before = previous.Peers.ToDictionary(p => p.PublicKey, StringComparer.Ordinal);
        steps.AddRange(previous.Peers.Where(p => !wanted.ContainsKey(p.PublicKey)).Select(p => new RemovePeer(p.PublicKey)));
        foreach (var peer in desired.Peers)
        {
            if (!before.TryGetValue(peer.PublicKey, out var last)) continue;
            var reasons = new List<string>();
            if (!SamePrefixes(peer.AllowedIps, last.AllowedIps)) reasons.Add("allowed IPs");
            if (peer.PersistentKeepalive != last.PersistentKeepalive) reasons.Add("keepalive");
            var setEndpoint = peer.Endpoint is not null && !string.Equals(peer.Endpoint, last.Endpoint, StringComparison.OrdinalIgnoreCase);
            if (setEndpoint) reasons.Add("endpoint");
            if (reasons.Count > 0)
                steps.Add(new UpdatePeer(Settings(peer, setEndpoint ? peer.Endpoint : null), string.Join(", ", reasons)));
        }
        steps.AddRange(desired.Peers.Where(p => !before.ContainsKey(p.PublicKey)).Select(p => new AddPeer(Settings(p, p.Endpoint))));

        var bypassBefore = previous.ServerBypass.ToHashSet();
        steps.AddRange(desired.ServerBypass.Where(a => !bypassBefore.Contains(a)).Select(a => new AddServerRoute(a)));
        var desiredRoutes = desired.Routes.ToHashSet();
        var previousRoutes = previous.Routes.ToHashSet();
        steps.AddRange(previous.Routes.Where(r => !desiredRoutes.Contains(r)).Select(r => new RemoveRoute(r)));
        steps.AddRange(desired.Routes.Where(r => !previousRoutes.Contains(r)).Select(r => new AddRoute(r)));
        if (desired.FullTunnelIPv4 != previous.FullTunnelIPv4) steps.Add(new SetFullTunnel(AddressFamily.InterNetwork, desired.FullTunnelIPv4));
        if (desired.FullTunnelIPv6 != previous.FullTunnelIPv6) steps.Add(new SetFullTunnel(AddressFamily.InterNetworkV6, desired.FullTunnelIPv6));
        var bypass = desired.ServerBypass.ToHashSet();
        steps.AddRange(previous.ServerBypass.Where(a => !bypass.Contains(a)).Select(a => new RemoveServerRoute(a)));
        return new Plan(steps);
    }

    /// <summary>
    /// Whether to write the configured endpoint over the one WireGuard has. An endpoint that differs
    /// may just be roaming (NAT rebinding, the peer moved), which WireGuard handles better than we
    /// can; a changed config, or a peer without any endpoint, is not.
    /// </summary>
    internal static bool EndpointNeedsSet(DesiredPeer peer, string? actualEndpoint, IReadOnlyDictionary<string, DesiredPeer>? previous)
    {
        if (peer.Endpoint is null) return false;
        if (actualEndpoint is null) return true;
        if (WireGuardEndpoint.Same(peer.Endpoint, actualEndpoint)) return false;
        if (previous is null || !previous.TryGetValue(peer.PublicKey, out var last)) return true;
        return !string.Equals(last.Endpoint, peer.Endpoint, StringComparison.OrdinalIgnoreCase);
    }

    private static bool SamePrefixes(IReadOnlyList<IpPrefix> a, IReadOnlyList<IpPrefix> b) => a.ToHashSet().SetEquals(b);

    private static PeerSettings Settings(DesiredPeer peer, string? endpoint) =>
        new(peer.PublicKey, endpoint, peer.AllowedIps, peer.PersistentKeepalive);
}
