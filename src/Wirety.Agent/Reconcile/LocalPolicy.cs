using System.Net;

namespace Wirety.Agent.Reconcile;

/// <summary>
/// What this host lets the server's config do to it, decided here and never by the config: a stolen or
/// compromised server must not turn a laptop into a router or pull its traffic into the tunnel.
/// </summary>
/// <param name="EnrolledAsJump">The kind in the enrollment answer was <c>jump</c> (kept in identity.json). A later
/// config saying <c>kind: jump</c> does not count.</param>
/// <param name="AllowRouting"><c>--allow-routing</c>: a non-jump may forward and masquerade when the config has
/// <c>forwarding</c> (the server routes a subnet or an exit through this peer).</param>
/// <param name="AllowFullTunnel"><c>--allow-full-tunnel</c>: default routes (0.0.0.0/0, ::/0) and prefixes covering
/// the server's address are applied; otherwise they are left out of WireGuard and the routing table.</param>
/// <param name="ServerAddresses">The server's addresses (its URL's host, resolved), for "covers the server" and for
/// the host route that keeps the server outside a full tunnel.</param>
public sealed record LocalPolicy(bool EnrolledAsJump, bool AllowRouting, bool AllowFullTunnel, IReadOnlyList<IPAddress> ServerAddresses)
{
    /// <summary>Applies whatever the config asks: for tests that are not about local policy.</summary>
    public static LocalPolicy TrustServer { get; } = new(false, true, true, []);

    /// <summary>Whether the config's <c>forwarding</c> (IP forwarding, NAT) may be applied.</summary>
    public bool MayForward => EnrolledAsJump || AllowRouting;

    public static LocalPolicy For(string? enrolledKind, bool allowRouting, bool allowFullTunnel) =>
        new(string.Equals(enrolledKind, "jump", StringComparison.OrdinalIgnoreCase), allowRouting, allowFullTunnel, []);

    public const string ForwardingRefused =
        "the config asks this peer to forward and masquerade for other peers (a route goes through it), but it was not enrolled as a jump; " +
        "forwarding and NAT are left off (pass --allow-routing to allow them)";
}
