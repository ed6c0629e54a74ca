using System.Collections.Immutable;
using Wirety.Events.Peers;
using Wirety.Events.Segmentation;

namespace Wirety.Projections.Networks;

/// <summary>
/// A network and its peers as the event stream says they are now. It is both the write model the
/// command handlers decide against and the input of config generation. Immutable: every event
/// yields a new value (see <see cref="NetworkEvolution"/>), so "before" and "after" can be compared.
/// </summary>
public sealed record Network
{
    public Guid Id { get; init; }
    /// <summary>Stream version, maintained by Marten.</summary>
    public long Version { get; set; }
    public required string Name { get; init; }
    public required string Cidr { get; init; }
    public string? Domain { get; init; }
    public ImmutableArray<string> Dns { get; init; } = [];
    public int? Mtu { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public NetworkSecurity Security { get; init; } = NetworkSecurity.Default;
    /// <summary>Peers in creation order; the order is part of the config rules (primary jump = first jump).</summary>
    public ImmutableList<PeerState> Peers { get; init; } = [];
    /// <summary>What traffic no policy mentions gets: <see cref="DefaultPolicy.Allow"/> is the flat mesh of before policies.</summary>
    public DefaultPolicy DefaultPolicy { get; init; } = DefaultPolicy.Allow;

    /// <summary>Whether peer endpoints may be DNS names (<see cref="Wirety.Events.Networks.DnsEndpointsAllowanceChanged"/>); else address literals only.</summary>
    public bool AllowDnsEndpoints { get; init; }
    /// <summary>Days between agents' key rotations (<see cref="Wirety.Events.Networks.KeyRotationIntervalChanged"/>); null: agents rotate only when told to.</summary>
    public int? KeyRotationDays { get; init; }
    /// <summary>Groups, policies and routes, each in creation order.</summary>
    public ImmutableList<GroupState> Groups { get; init; } = [];
    public ImmutableList<PolicyState> Policies { get; init; } = [];
    public ImmutableList<RouteState> Routes { get; init; } = [];

    /// <summary>
    /// The peer with this id, or null. O(1) after the first lookup on this value: a network of thousands of peers is
    /// asked for each of its peers when configs are built, and a scan per lookup made that O(N²).
    /// </summary>
    public PeerState? FindPeer(Guid peerId)
    {
        if (Peers.Count <= PeerIndexThreshold) return Peers.Find(p => p.Id == peerId);
        var index = PeerIndexes.GetValue(this, static n => n.Peers.ToDictionary(p => p.Id));
        return index.GetValueOrDefault(peerId);
    }

    /// <summary>Below this many peers a scan is as cheap as building the index.</summary>
    private const int PeerIndexThreshold = 32;

    /// <summary>Each network value's peers by id, built on first use and dropped with the value (the state is immutable).</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Network, Dictionary<Guid, PeerState>> PeerIndexes = new();
    public GroupState? FindGroup(Guid groupId) => Groups.Find(g => g.Id == groupId);
    public PolicyState? FindPolicy(Guid policyId) => Policies.Find(p => p.Id == policyId);
    public RouteState? FindRoute(Guid routeId) => Routes.Find(r => r.Id == routeId);
}

/// <summary>A named set of peers; <see cref="Members"/> sorted, so equal sets compare equal.</summary>
public sealed record GroupState
{
    public Guid Id { get; init; }
    public required string Name { get; init; }
    public string? Description { get; init; }
    public ImmutableArray<Guid> Members { get; init; } = [];
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>An allow rule: <see cref="Sources"/> may open connections to <see cref="Destinations"/> on <see cref="Ports"/> (empty = all).</summary>
public sealed record PolicyState
{
    public Guid Id { get; init; }
    public required string Name { get; init; }
    public string? Description { get; init; }
    public required PolicyTargets Sources { get; init; }
    public required PolicyTargets Destinations { get; init; }
    /// <summary>Canonical <see cref="PortRange"/> texts; empty = every protocol and port.</summary>
    public ImmutableArray<string> Ports { get; init; } = [];
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>A subnet (or the internet, for an exit node) behind <see cref="ViaPeerId"/>, offered to <see cref="Groups"/> (all peers when empty).</summary>
public sealed record RouteState
{
    public Guid Id { get; init; }
    public required string Cidr { get; init; }
    public Guid ViaPeerId { get; init; }
    public ImmutableArray<Guid> Groups { get; init; } = [];
    public DateTimeOffset CreatedAt { get; init; }
}

public sealed record PeerState
{
    public Guid Id { get; init; }
    public required string Name { get; init; }
    public PeerKind Kind { get; init; }
    /// <summary>IPv4 address inside the network CIDR, without prefix length.</summary>
    public required string Address { get; init; }
    /// <summary>WireGuard public key (base64); null until a jump/dynamic peer's agent enrolls.</summary>
    public string? PublicKey { get; init; }
    /// <summary>Admin-declared public endpoint (<c>host:port</c>); required for jump peers.</summary>
    public string? Endpoint { get; init; }
    /// <summary>Where the peer was last seen from, derived from its heartbeats (dynamic peers).</summary>
    public string? ObservedEndpoint { get; init; }
    /// <summary>When <see cref="ObservedEndpoint"/> last changed (bounds how often an agent can re-render the mesh).</summary>
    public DateTimeOffset? ObservedEndpointAt { get; init; }
    /// <summary>The endpoint others dial: the declared one, else the observed one.</summary>
    public string? ReachableEndpoint => Endpoint ?? ObservedEndpoint;
    public int? ListenPort { get; init; }
    public bool Isolated { get; init; }
    public bool FullEncapsulation { get; init; }
    public ImmutableArray<string> AdditionalAllowedIps { get; init; } = [];
    public string? Hostname { get; init; }
    /// <summary>The current agent session (the latest enrollment), if any.</summary>
    public Guid? SessionId { get; init; }
    public DateTimeOffset? EnrolledAt { get; init; }
    public bool Blocked { get; init; }
    public string? BlockReason { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>Incident-detection thresholds of a network.</summary>
public sealed record NetworkSecurity(
    bool Enabled, TimeSpan SessionConflictWindow, int SharedConfigFlips, TimeSpan SharedConfigWindow, int MaxEndpointChangesPerDay)
{
    public static readonly NetworkSecurity Default = new(true, TimeSpan.FromMinutes(5), 2, TimeSpan.FromMinutes(5), 10);
}
