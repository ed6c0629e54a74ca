using System.Net;
using System.Net.Sockets;
using Wirety.Agent.Identity;
using Wirety.Events.Addressing;

namespace Wirety.Agent.WireGuard;

/// <summary>
/// Everything the agent does to a WireGuard interface and its routes. <see cref="WgCommandLine"/>
/// drives the real thing over <c>wg</c> and <c>ip</c> (kernel module or wireguard-go); tests use an
/// in-memory implementation. Every call is idempotent for the same arguments.
/// </summary>
public interface IWireGuard
{
    /// <summary>The interface's full state for reconciling, or null when it does not exist.</summary>
    Task<InterfaceState?> ReadAsync(string iface, CancellationToken ct);

    /// <summary>Just <c>wg show IF dump</c> (listen port, peers and their counters); null when absent.</summary>
    Task<WgDevice?> ShowAsync(string iface, CancellationToken ct);

    /// <summary>Creates the interface (kernel WireGuard, else wireguard-go). It starts down, without address or peers.</summary>
    Task CreateInterfaceAsync(string iface, CancellationToken ct);

    Task DeleteInterfaceAsync(string iface, CancellationToken ct);

    /// <summary>Sets the private key; implementations never put it in argv, on disk or in a message.</summary>
    Task SetPrivateKeyAsync(string iface, Secret privateKey, CancellationToken ct);

    Task SetListenPortAsync(string iface, int port, CancellationToken ct);

    Task AddAddressAsync(string iface, InterfaceAddress address, CancellationToken ct);

    Task RemoveAddressAsync(string iface, InterfaceAddress address, CancellationToken ct);

    Task SetMtuAsync(string iface, int mtu, CancellationToken ct);

    Task SetUpAsync(string iface, CancellationToken ct);

    /// <summary>Adds the peer or updates it in place; its AllowedIPs become exactly <see cref="PeerSettings.AllowedIps"/>.</summary>
    Task SetPeerAsync(string iface, PeerSettings peer, CancellationToken ct);

    Task RemovePeerAsync(string iface, string publicKey, CancellationToken ct);

    /// <summary>Routes <paramref name="prefix"/> (main table) to the interface. Never the default route.</summary>
    /// <exception cref="RouteConflictException">Another device already has a route for exactly this prefix.</exception>
    Task AddRouteAsync(string iface, IpPrefix prefix, CancellationToken ct);

    Task RemoveRouteAsync(string iface, IpPrefix prefix, CancellationToken ct);

    /// <summary>
    /// Sends all traffic of one family through the interface (a peer whose AllowedIPs hold
    /// 0.0.0.0/0 or ::/0), the way wg-quick does it: WireGuard's own packets carry a firewall mark
    /// and keep using the main table, everything else goes to a separate table whose default route
    /// is the interface. The main table's default route is never touched.
    /// </summary>
    Task SetFullTunnelAsync(string iface, AddressFamily family, bool enabled, CancellationToken ct);

    /// <summary>
    /// Keeps the server reachable outside the tunnel: a host route for <paramref name="server"/> (a /32
    /// or /128) in the main table via the gateway and device the underlay uses for it now (never
    /// <paramref name="iface"/>). Needed when a full tunnel or a route covering the server would otherwise
    /// carry the agent's own control traffic into the tunnel it controls.
    /// </summary>
    Task AddServerRouteAsync(string iface, IpPrefix server, CancellationToken ct);

    Task RemoveServerRouteAsync(string iface, IpPrefix server, CancellationToken ct);
}

/// <summary>
/// What <c>SetPeer</c> writes. <see cref="Endpoint"/> null leaves the current endpoint alone (WireGuard
/// roams it to wherever the peer's authenticated packets come from).
/// </summary>
public sealed record PeerSettings(string PublicKey, string? Endpoint, IReadOnlyList<IpPrefix> AllowedIps, int PersistentKeepalive);

/// <summary>One interface as WireGuard reports it (<c>wg show IF dump</c>). The private key is never kept.</summary>
public sealed record WgDevice(string? PublicKey, int ListenPort, uint Fwmark, IReadOnlyList<WgPeer> Peers);

public sealed record WgPeer(
    string PublicKey,
    string? Endpoint,
    IReadOnlyList<IpPrefix> AllowedIps,
    DateTimeOffset? LatestHandshake,
    long RxBytes,
    long TxBytes,
    int PersistentKeepalive);

/// <summary>The interface as the reconciler compares it with the desired state.</summary>
/// <param name="Addresses">Global-scope addresses (link-local ones are the kernel's business).</param>
/// <param name="Routes">Main-table routes on this interface that the agent manages (see <see cref="WgCommandLine"/>).</param>
/// <remarks><see cref="ServerRoutes"/>: the agent's host routes to the server outside the tunnel (see <see cref="IWireGuard.AddServerRouteAsync"/>).</remarks>
public sealed record InterfaceState(
    WgDevice Device,
    IReadOnlyList<InterfaceAddress> Addresses,
    int Mtu,
    bool IsUp,
    IReadOnlyList<IpPrefix> Routes,
    bool FullTunnelIPv4,
    bool FullTunnelIPv6)
{
    public IReadOnlyList<IpPrefix> ServerRoutes { get; init; } = [];
}

/// <summary>A prefix is already routed to another device; the agent does not steal it.</summary>
public sealed class RouteConflictException(string message) : Exception(message);

/// <summary>A wg/ip command failed. Messages carry the command and its stderr, never a secret.</summary>
public sealed class WireGuardCommandException(string message) : Exception(message);
