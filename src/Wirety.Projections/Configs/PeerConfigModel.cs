using Wirety.Events.Peers;

namespace Wirety.Projections.Configs;

/// <summary>
/// What one peer's WireGuard configuration contains, before rendering (wg-quick text for admins and
/// static peers, JSON for agents). Built by <see cref="ConfigBuilder"/> from a <c>Network</c>.
/// </summary>
public sealed record PeerConfigModel(
    Guid NetworkId,
    Guid PeerId,
    string PeerName,
    PeerKind Kind,
    InterfaceSection Interface,
    IReadOnlyList<PeerEntry> Peers,
    int? KeyRotationDays = null);

/// <param name="Address">The peer's address with prefix, e.g. <c>10.0.0.5/32</c>.</param>
/// <param name="Dns">Resolver IPs followed by the network's search domain, as wg-quick's DNS line takes them.</param>
public sealed record InterfaceSection(string Address, int? ListenPort, IReadOnlyList<string> Dns, int? Mtu);

/// <summary>One <c>[Peer]</c> section.</summary>
public sealed record PeerEntry(
    Guid PeerId,
    string Name,
    PeerKind Kind,
    string PublicKey,
    string? Endpoint,
    IReadOnlyList<string> AllowedIps,
    int? PersistentKeepalive);
