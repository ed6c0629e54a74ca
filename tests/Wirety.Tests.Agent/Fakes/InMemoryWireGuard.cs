using System.Net;
using System.Net.Sockets;
using Wirety.Agent.Identity;
using Wirety.Agent.WireGuard;
using Wirety.Events.Addressing;
using Wirety.Events.Peers;

namespace Wirety.Tests.Agent.Fakes;

/// <summary>
/// An <see cref="IWireGuard"/> held in memory, with WireGuard's semantics where they matter to the
/// reconciler: a prefix belongs to one peer only (setting it on another peer moves it), an
/// endpoint stays when not given, the interface derives its public key from the private key and
/// never gives the private key back. Tests drift it through the same calls an admin's <c>wg set</c> makes.
/// </summary>
public sealed class InMemoryWireGuard : IWireGuard
{
    private readonly Dictionary<string, Device> _devices = new(StringComparer.Ordinal);
    private int _nextPort = 40000;

    /// <summary>Prefixes another device already routes: adding them throws <see cref="RouteConflictException"/>.</summary>
    public HashSet<IpPrefix> ForeignRoutes { get; } = [];

    /// <summary>Host routes to the server outside the tunnel (main table, not on the interface).</summary>
    public HashSet<IpPrefix> ServerRoutes { get; } = [];

    /// <summary>Every mutating call, in order, e.g. "set-peer wirety0 KEY".</summary>
    public List<string> Calls { get; } = [];

    public bool Exists(string iface) => _devices.ContainsKey(iface);

    public Task<InterfaceState?> ReadAsync(string iface, CancellationToken ct) =>
        Task.FromResult(_devices.TryGetValue(iface, out var d)
            ? new InterfaceState(Snapshot(d), [.. d.Addresses], d.Mtu, d.Up, [.. d.Routes], d.FullTunnel4, d.FullTunnel6) { ServerRoutes = [.. ServerRoutes] }
            : null);

    public Task<WgDevice?> ShowAsync(string iface, CancellationToken ct) =>
        Task.FromResult(_devices.TryGetValue(iface, out var d) ? Snapshot(d) : null);

    public Task CreateInterfaceAsync(string iface, CancellationToken ct)
    {
        Calls.Add($"create {iface}");
        _devices.TryAdd(iface, new Device { ListenPort = _nextPort++ });
        return Task.CompletedTask;
    }

    public Task DeleteInterfaceAsync(string iface, CancellationToken ct)
    {
        Calls.Add($"delete {iface}");
        _devices.Remove(iface);
        return Task.CompletedTask;
    }

    public Task SetPrivateKeyAsync(string iface, Secret privateKey, CancellationToken ct)
    {
        Calls.Add($"set-private-key {iface}");
        Get(iface).PublicKey = KeyPair.PublicKeyOf(privateKey);
        return Task.CompletedTask;
    }

    public Task SetListenPortAsync(string iface, int port, CancellationToken ct)
    {
        Calls.Add($"listen-port {iface} {port}");
        Get(iface).ListenPort = port;
        return Task.CompletedTask;
    }

    public Task AddAddressAsync(string iface, InterfaceAddress address, CancellationToken ct)
    {
        Calls.Add($"add-address {iface} {address}");
        var d = Get(iface);
        if (!d.Addresses.Contains(address)) d.Addresses.Add(address);
        return Task.CompletedTask;
    }

    public Task RemoveAddressAsync(string iface, InterfaceAddress address, CancellationToken ct)
    {
        Calls.Add($"remove-address {iface} {address}");
        Get(iface).Addresses.Remove(address);
        return Task.CompletedTask;
    }

    public Task SetMtuAsync(string iface, int mtu, CancellationToken ct)
    {
        Calls.Add($"mtu {iface} {mtu}");
        Get(iface).Mtu = mtu;
        return Task.CompletedTask;
    }

    public Task SetUpAsync(string iface, CancellationToken ct)
    {
        Calls.Add($"up {iface}");
        Get(iface).Up = true;
        return Task.CompletedTask;
    }

    public Task SetPeerAsync(string iface, PeerSettings peer, CancellationToken ct)
    {
        Calls.Add($"set-peer {iface} {peer.PublicKey}");
        var d = Get(iface);
        if (!WireGuardKey.IsWellFormed(peer.PublicKey)) throw new WireGuardCommandException("Key is not the correct length or format");
        var entry = d.Peers.FirstOrDefault(p => p.PublicKey == peer.PublicKey);
        if (entry is null) d.Peers.Add(entry = new Peer { PublicKey = peer.PublicKey });
        if (peer.Endpoint is not null) entry.Endpoint = peer.Endpoint;
        foreach (var other in d.Peers.Where(p => p != entry)) other.AllowedIps.RemoveAll(peer.AllowedIps.Contains);
        entry.AllowedIps = [.. peer.AllowedIps.Distinct()];
        entry.Keepalive = peer.PersistentKeepalive;
        return Task.CompletedTask;
    }

    public Task RemovePeerAsync(string iface, string publicKey, CancellationToken ct)
    {
        Calls.Add($"remove-peer {iface} {publicKey}");
        Get(iface).Peers.RemoveAll(p => p.PublicKey == publicKey);
        return Task.CompletedTask;
    }

    public Task AddRouteAsync(string iface, IpPrefix prefix, CancellationToken ct)
    {
        Calls.Add($"add-route {iface} {prefix}");
        if (prefix.IsDefault) throw new ArgumentException("never the default route");
        if (ForeignRoutes.Contains(prefix)) throw new RouteConflictException($"{prefix} is already routed via eth0; not moving it to {iface}");
        Get(iface).Routes.Add(prefix);
        return Task.CompletedTask;
    }

    public Task RemoveRouteAsync(string iface, IpPrefix prefix, CancellationToken ct)
    {
        Calls.Add($"remove-route {iface} {prefix}");
        Get(iface).Routes.Remove(prefix);
        return Task.CompletedTask;
    }

    public Task SetFullTunnelAsync(string iface, AddressFamily family, bool enabled, CancellationToken ct)
    {
        Calls.Add($"full-tunnel {iface} {family} {enabled}");
        var d = Get(iface);
        if (family == AddressFamily.InterNetwork) d.FullTunnel4 = enabled; else d.FullTunnel6 = enabled;
        return Task.CompletedTask;
    }

    public Task AddServerRouteAsync(string iface, IpPrefix server, CancellationToken ct)
    {
        Calls.Add($"add-server-route {server}");
        ServerRoutes.Add(server);
        return Task.CompletedTask;
    }

    public Task RemoveServerRouteAsync(string iface, IpPrefix server, CancellationToken ct)
    {
        Calls.Add($"remove-server-route {server}");
        ServerRoutes.Remove(server);
        return Task.CompletedTask;
    }

    /// <summary>What WireGuard does when a peer's packets arrive from a new address.</summary>
    public void Roam(string iface, string publicKey, string endpoint) =>
        Get(iface).Peers.Single(p => p.PublicKey == publicKey).Endpoint = endpoint;

    /// <summary>An admin's <c>ip link set IF down</c>.</summary>
    public void SetDown(string iface) => Get(iface).Up = false;

    private Device Get(string iface) =>
        _devices.TryGetValue(iface, out var d) ? d : throw new WireGuardCommandException($"Unable to access interface {iface}: No such device");

    private static WgDevice Snapshot(Device d) =>
        new(d.PublicKey, d.ListenPort, 0,
            d.Peers.Select(p => new WgPeer(p.PublicKey, p.Endpoint, [.. p.AllowedIps], null, 0, 0, p.Keepalive)).ToList());

    private sealed class Device
    {
        public string? PublicKey;
        public int ListenPort;
        public int Mtu = 1420;
        public bool Up;
        public bool FullTunnel4;
        public bool FullTunnel6;
        public readonly List<InterfaceAddress> Addresses = [];
        public readonly List<Peer> Peers = [];
        public readonly HashSet<IpPrefix> Routes = [];
    }

    private sealed class Peer
    {
        public required string PublicKey;
        public string? Endpoint;
        public List<IpPrefix> AllowedIps = [];
        public int Keepalive;
    }
}
