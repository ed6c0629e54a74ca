using Wirety.Events.Addressing;
using Wirety.Events.Peers;
using Wirety.Projections.Networks;
using Wirety.Projections.Segmentation;

namespace Wirety.Projections.Configs;

/// <summary>
/// Turns a <see cref="Network"/> into one peer's WireGuard configuration, following the config rules
/// in DESIGN.md. Pure and deterministic: the output depends only on the network value, and every list
/// is in a fixed order (jumps first, then others, each in creation order), so equal state renders to
/// byte-identical text and the same ETag. Cost is O(peers) per call.
/// </summary>
public static partial class ConfigBuilder
{
    /// <summary>Keeps NAT mappings open towards relays and direct mesh partners.</summary>
    public const int PersistentKeepalive = 25;

    /// <summary>The config of <paramref name="peerId"/>.</summary>
    /// <exception cref="ArgumentException">The peer is not in the network; callers look it up first (404).</exception>
    public static PeerConfigModel Build(Network network, Guid peerId)
    {
        ArgumentNullException.ThrowIfNull(network);
        var viewer = network.FindPeer(peerId)
            ?? throw new ArgumentException($"Peer {peerId} is not in network {network.Id}.", nameof(peerId));

        var @interface = Interface(network, viewer);

        IReadOnlyList<PeerEntry> entries =
            viewer.Blocked ? []
            : viewer.Kind == PeerKind.Jump ? JumpView(network, viewer)
            : MemberView(network, viewer);

        return new PeerConfigModel(network.Id, viewer.Id, viewer.Name, viewer.Kind, @interface, entries, network.KeyRotationDays);
    }

    private static InterfaceSection Interface(Network network, PeerState viewer)
    {
        var dns = string.IsNullOrWhiteSpace(network.Domain) ? network.Dns : network.Dns.Add(network.Domain);
        return new InterfaceSection($"{viewer.Address}/32", viewer.ListenPort, dns, network.Mtu);
    }

    /// <summary>
    /// Whether other configs may list this peer: it has a key to list, and it is not contained.
    /// Shared with <see cref="ConfigImpact"/> so both always agree.
    /// </summary>
    public static bool IsUsable(PeerState peer) => !string.IsNullOrEmpty(peer.PublicKey) && !peer.Blocked;

    /// <summary>
    /// Whether the peer takes part in the direct mesh. A direct entry exists only between two members,
    /// so both ends always list each other: WireGuard drops a handshake from a key it has no entry for,
    /// and a one-sided entry would black-hole the /32 it claims (the longer prefix beats the jump's CIDR).
    /// </summary>
    internal static bool IsMeshMember(PeerState peer) =>
        IsUsable(peer) && peer.Kind == PeerKind.Dynamic && !peer.Isolated && !string.IsNullOrEmpty(peer.ReachableEndpoint);

    /// <summary>
    /// A jump relays for everyone: it lists every other usable peer with the routes behind it (its subnet
    /// routes, never an exit route: that would take the jump's own traffic). Its packet filter decides what
    /// it actually relays (<see cref="PeerFilters"/>).
    /// </summary>
    private static List<PeerEntry> JumpView(Network network, PeerState viewer)
    {
        var claimed = new HashSet<IpPrefix>();
        var entries = new List<PeerEntry>();
        foreach (var peer in InEntryOrder(network.Peers.Where(p => p.Id != viewer.Id && IsUsable(p))))
        {
            var isJump = peer.Kind == PeerKind.Jump;
            var subnets = RoutesVia(network, peer.Id).Where(r => !r.IsDefault);
            entries.Add(Entry(peer, isJump ? peer.ReachableEndpoint : null, isJump ? PersistentKeepalive : null,
                Claim(claimed, OwnRoutes(peer).Concat(subnets))));
        }
        return entries;
    }

    /// <summary>
    /// Dynamic and static peers: jump entries, plus direct entries inside the mesh with the members policy
    /// connects this peer to (in either direction: replies need the tunnel too), plus the routes offered to
    /// this peer — on the route's peer's entry when there is one, else relayed by the primary jump (an exit
    /// route only directly).
    /// </summary>
    private static List<PeerEntry> MemberView(Network network, PeerState viewer)
    {
        var access = AccessRules.Of(network);
        var jumps = network.Peers.Where(p => p.Kind == PeerKind.Jump && IsUsable(p)).ToList();
        var direct = IsMeshMember(viewer)
            ? network.Peers.Where(p => p.Id != viewer.Id && IsMeshMember(p) && access.Connected(viewer, p)).ToList()
            : [];
        var offered = network.Routes
            .Where(r => network.FindPeer(r.ViaPeerId) is { } via && IsUsable(via) && !access.RouteAccess(r, viewer).IsEmpty)
            .ToList();

        // A prefix may sit on one entry only. Entries claim their own prefixes first, in output order;
        // routes relayed through the primary jump come last, so a peer reached directly keeps its own.
        var claimed = new HashSet<IpPrefix>();
        var drafts = new List<(PeerState Peer, List<IpPrefix> Routes)>();
        for (var i = 0; i < jumps.Count; i++)
            drafts.Add((jumps[i], Claim(claimed, JumpRoutes(network, viewer, jumps[i], primary: i == 0).Concat(Offered(offered, jumps[i].Id)))));
        foreach (var peer in direct)
            drafts.Add((peer, Claim(claimed, OwnRoutes(peer).Concat(Offered(offered, peer.Id)))));

        if (jumps.Count > 0 && !viewer.Isolated && !viewer.FullEncapsulation)
        {
            // Everything not listed here travels via the primary jump: its network CIDR already covers
            // those peers' addresses, but the routes behind them must be added explicitly.
            var listed = drafts.Select(d => d.Peer.Id).ToHashSet();
            var relayed = network.Peers
                .Where(p => p.Id != viewer.Id && IsUsable(p) && !listed.Contains(p.Id) && !access.Allowed(viewer, p).IsEmpty)
                .SelectMany(p => AdditionalRoutes(p).Concat(Offered(offered, p.Id).Where(r => !r.IsDefault)));
            drafts[0].Routes.AddRange(Claim(claimed, relayed));
        }

        // Jumps and mesh partners alike are dialled at their endpoint and kept alive.
        return drafts.Select(d => Entry(d.Peer, d.Peer.ReachableEndpoint, PersistentKeepalive, d.Routes)).ToList();
    }

    /// <summary>
    /// The primary jump (earliest created usable jump) is the default route into the network, or the
    /// default route altogether for a fully encapsulated viewer; other jumps are reached by their /32
    /// and the routes behind them. An isolated viewer only talks to the jumps themselves.
    /// </summary>
    private static IEnumerable<IpPrefix> JumpRoutes(Network network, PeerState viewer, PeerState jump, bool primary)
    {
        if (viewer.Isolated)
        {
            foreach (var host in HostRoute(jump)) yield return host;
            if (primary && viewer.FullEncapsulation)
            {
                yield return IpPrefix.AnyIPv4;
                yield return IpPrefix.AnyIPv6;
            }
            yield break;
        }

        if (!primary)
        {
            foreach (var route in OwnRoutes(jump)) yield return route;
            yield break;
        }

        if (viewer.FullEncapsulation)
        {
            yield return IpPrefix.AnyIPv4;
            yield return IpPrefix.AnyIPv6;
            yield break;
        }

        if (Ipv4Cidr.TryParse(network.Cidr, out var cidr, out _)) yield return cidr.Prefix;
        foreach (var route in AdditionalRoutes(jump)) yield return route;
    }

    /// <summary>The peer's /32 followed by the routes behind it.</summary>
    private static IEnumerable<IpPrefix> OwnRoutes(PeerState peer) => HostRoute(peer).Concat(AdditionalRoutes(peer));

    private static IEnumerable<IpPrefix> HostRoute(PeerState peer) =>
        IpAddresses.TryParseIPv4(peer.Address, out var address) ? [IpPrefix.Host(address)] : [];

    /// <summary>
    /// The peer's additionalAllowedIps, canonicalised. Commands validate them on the way in; anything
    /// unparseable that still reached the state is left out, because wg-quick rejects the whole file
    /// for one bad AllowedIPs value.
    /// </summary>
    private static IEnumerable<IpPrefix> AdditionalRoutes(PeerState peer)
    {
        foreach (var text in peer.AdditionalAllowedIps)
        {
            if (IpPrefix.TryParse(text, out var prefix, out _)) yield return prefix;
        }
    }

    /// <summary>The explicit routes through <paramref name="peerId"/>.</summary>
    private static IEnumerable<IpPrefix> RoutesVia(Network network, Guid peerId)
    {
        foreach (var route in network.Routes)
            if (route.ViaPeerId == peerId && IpPrefix.TryParse(route.Cidr, out var prefix, out _)) yield return prefix;
    }

    /// <summary>Of the routes offered to the viewer, those through <paramref name="peerId"/>.</summary>
    private static IEnumerable<IpPrefix> Offered(List<RouteState> offered, Guid peerId)
    {
        foreach (var route in offered)
            if (route.ViaPeerId == peerId && IpPrefix.TryParse(route.Cidr, out var prefix, out _)) yield return prefix;
    }

    /// <summary>The prefixes not yet claimed by an earlier entry (or earlier in this one), now claimed.</summary>
    private static List<IpPrefix> Claim(HashSet<IpPrefix> claimed, IEnumerable<IpPrefix> prefixes)
    {
        var won = new List<IpPrefix>();
        foreach (var prefix in prefixes)
        {
            if (claimed.Add(prefix)) won.Add(prefix);
        }
        return won;
    }

    private static IEnumerable<PeerState> InEntryOrder(IEnumerable<PeerState> peers) =>
        peers.OrderBy(p => p.Kind == PeerKind.Jump ? 0 : 1); // stable: creation order within each group

    private static PeerEntry Entry(PeerState peer, string? endpoint, int? keepalive, List<IpPrefix> routes) =>
        new(peer.Id, peer.Name, peer.Kind, peer.PublicKey!, string.IsNullOrEmpty(endpoint) ? null : endpoint,
            routes.Select(r => r.ToString()).ToList(), keepalive);
}
