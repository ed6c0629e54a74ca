using Wirety.Events.Addressing;
using Wirety.Events.Peers;
using Wirety.Events.Segmentation;
using Wirety.Projections.Addressing;
using Wirety.Projections.Networks;

namespace Wirety.Server.Networks;

public sealed record PeerCounts(int Total, int Jump, int Dynamic, int Static, int Blocked);

public sealed record NetworkView(
    Guid Id, string Name, string Cidr, string? Domain, IReadOnlyList<string> Dns, int? Mtu, long Version,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, PeerCounts Peers, IpamCapacity Ipam, DefaultPolicy DefaultPolicy)
{
    /// <summary>Whether peer endpoints may be DNS names in this network (set with PATCH <c>allowDnsEndpoints</c>); false: IP addresses only.</summary>
    public bool AllowDnsEndpoints { get; init; }

    /// <summary>Days between agents' key rotations (set with PUT <c>key-rotation</c>); null: off.</summary>
    public int? KeyRotationDays { get; init; }

    public static NetworkView Of(Network n) => new(
        n.Id, n.Name, n.Cidr, n.Domain, n.Dns, n.Mtu, n.Version, n.CreatedAt, n.UpdatedAt,
        new PeerCounts(n.Peers.Count, n.Peers.Count(p => p.Kind == PeerKind.Jump), n.Peers.Count(p => p.Kind == PeerKind.Dynamic),
            n.Peers.Count(p => p.Kind == PeerKind.Static), n.Peers.Count(p => p.Blocked)),
        CapacityOf(n), n.DefaultPolicy) { AllowDnsEndpoints = n.AllowDnsEndpoints, KeyRotationDays = n.KeyRotationDays };

    public static IpamCapacity CapacityOf(Network n) => Projections.Addressing.Ipam.Capacity(Ipv4Cidr.Parse(n.Cidr), n.Peers.Select(p => p.Address));
}
