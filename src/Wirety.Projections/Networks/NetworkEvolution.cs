using Wirety.Events.Networks;
using Wirety.Events.Peers;
using Wirety.Events.Segmentation;

namespace Wirety.Projections.Networks;

/// <summary>
/// The one fold from network-stream events to <see cref="Network"/>. Pure: time comes from the
/// events, never from the clock, so a rebuild yields the same state.
/// </summary>
public static class NetworkEvolution
{
    /// <returns>The new state; null once the network is deleted.</returns>
    public static Network? Evolve(Network? state, object @event) => (state, @event) switch
    {
        (_, NetworkCreated e) => new Network
        {
            Id = e.NetworkId, Name = e.Name, Cidr = e.Cidr, Domain = e.Domain, Dns = [.. e.Dns], Mtu = e.Mtu,
            CreatedAt = e.At, UpdatedAt = e.At,
        },
        (null, _) => null,
        (_, NetworkDeleted) => null,
        (_, NetworkUpdated e) => state with { Name = e.Name, Domain = e.Domain, Dns = [.. e.Dns], Mtu = e.Mtu, UpdatedAt = e.At },
        (_, NetworkSecurityChanged e) => state with
        {
            UpdatedAt = e.At,
            Security = new NetworkSecurity(e.Enabled, e.SessionConflictWindow, e.SharedConfigFlips, e.SharedConfigWindow, e.MaxEndpointChangesPerDay),
        },
        (_, PeerAdded e) => state with
        {
            UpdatedAt = e.At,
            Peers = state.Peers.Add(new PeerState
            {
                Id = e.PeerId, Name = e.Name, Kind = e.Kind, Address = e.Address, PublicKey = e.PublicKey,
                Endpoint = e.Endpoint, ListenPort = e.ListenPort, Isolated = e.Isolated,
                FullEncapsulation = e.FullEncapsulation, AdditionalAllowedIps = [.. e.AdditionalAllowedIps],
                CreatedAt = e.At, UpdatedAt = e.At,
            }),
        },
        (_, PeerUpdated e) => WithPeer(state, e.PeerId, e.At, p => p with
        {
            Name = e.Name, Endpoint = e.Endpoint, ListenPort = e.ListenPort, Isolated = e.Isolated,
            FullEncapsulation = e.FullEncapsulation, AdditionalAllowedIps = [.. e.AdditionalAllowedIps],
        }),
        (_, PeerRemoved e) => WithoutPeer(state, e.PeerId) with { UpdatedAt = e.At },
        (_, PeerEnrolled e) => WithPeer(state, e.PeerId, e.At, p => p with
        {
            PublicKey = e.PublicKey, Hostname = e.Hostname, SessionId = e.SessionId, EnrolledAt = e.At, ObservedEndpoint = null, ObservedEndpointAt = null,
        }),
        // A new key pair for the same peer: session, address and everything else stay; the endpoint too (same host).
        (_, PeerKeyRotated e) => WithPeer(state, e.PeerId, e.At, p => p with { PublicKey = e.PublicKey }),
        (_, EndpointChanged e) => WithPeer(state, e.PeerId, e.At, p => p with { ObservedEndpoint = e.Endpoint, ObservedEndpointAt = e.At }),
        (_, PeerBlocked e) => WithPeer(state, e.PeerId, e.At, p => p with { Blocked = true, BlockReason = e.Reason }),
        (_, PeerUnblocked e) => WithPeer(state, e.PeerId, e.At, p => p with { Blocked = false, BlockReason = null }),
        (_, DefaultPolicyChanged e) => state with { DefaultPolicy = e.DefaultPolicy, UpdatedAt = e.At },
        (_, DnsEndpointsAllowanceChanged e) => state with { AllowDnsEndpoints = e.Allowed, UpdatedAt = e.At },
        (_, KeyRotationIntervalChanged e) => state with { KeyRotationDays = e.IntervalDays, UpdatedAt = e.At },
        (_, GroupCreated e) => state with
        {
            UpdatedAt = e.At,
            Groups = state.Groups.Add(new GroupState { Id = e.GroupId, Name = e.Name, Description = e.Description, CreatedAt = e.At, UpdatedAt = e.At }),
        },
        (_, GroupUpdated e) => WithGroup(state, e.GroupId, e.At, g => g with { Name = e.Name, Description = e.Description }),
        (_, GroupMembersSet e) => WithGroup(state, e.GroupId, e.At, g => g with { Members = [.. e.PeerIds.Distinct().Order()] }),
        (_, GroupDeleted e) => WithoutGroup(state, e.GroupId) with { UpdatedAt = e.At },
        (_, PolicyCreated e) => state with
        {
            UpdatedAt = e.At,
            Policies = state.Policies.Add(new PolicyState
            {
                Id = e.PolicyId, Name = e.Name, Description = e.Description, Sources = e.Sources, Destinations = e.Destinations,
                Ports = [.. e.Ports], CreatedAt = e.At, UpdatedAt = e.At,
            }),
        },
        (_, PolicyUpdated e) => WithPolicy(state, e.PolicyId, e.At, p => p with
        {
            Name = e.Name, Description = e.Description, Sources = e.Sources, Destinations = e.Destinations, Ports = [.. e.Ports],
        }),
        (_, PolicyDeleted e) => state with { UpdatedAt = e.At, Policies = state.Policies.RemoveAll(p => p.Id == e.PolicyId) },
        (_, RouteAdded e) => state with
        {
            UpdatedAt = e.At,
            Routes = state.Routes.Add(new RouteState { Id = e.RouteId, Cidr = e.Cidr, ViaPeerId = e.ViaPeerId, Groups = [.. e.Groups], CreatedAt = e.At }),
        },
        (_, RouteRemoved e) => state with { UpdatedAt = e.At, Routes = state.Routes.RemoveAll(r => r.Id == e.RouteId) },
        _ => state,
    };

    /// <summary>Whether the event belongs to a network stream (and so can change the network's state and configs).</summary>
    public static bool Handles(object @event) => @event is NetworkCreated or NetworkUpdated or NetworkDeleted or NetworkSecurityChanged
        or PeerAdded or PeerUpdated or PeerRemoved or PeerBlocked or PeerUnblocked or PeerEnrolled or EndpointChanged
        or PeerKeyRotated or KeyRotationIntervalChanged
        or DefaultPolicyChanged or GroupCreated or GroupUpdated or GroupMembersSet or GroupDeleted
        or PolicyCreated or PolicyUpdated or PolicyDeleted or RouteAdded or RouteRemoved or DnsEndpointsAllowanceChanged;

    /// <summary>Every event type <see cref="Evolve(Network?, object)"/> folds, for projections' allow-lists.</summary>
    public static readonly IReadOnlyList<Type> EventTypes =
    [
        typeof(NetworkCreated), typeof(NetworkUpdated), typeof(NetworkDeleted), typeof(NetworkSecurityChanged),
        typeof(PeerAdded), typeof(PeerUpdated), typeof(PeerRemoved), typeof(PeerBlocked), typeof(PeerUnblocked),
        typeof(PeerEnrolled), typeof(EndpointChanged),
        typeof(DefaultPolicyChanged), typeof(GroupCreated), typeof(GroupUpdated), typeof(GroupMembersSet), typeof(GroupDeleted),
        typeof(PolicyCreated), typeof(PolicyUpdated), typeof(PolicyDeleted), typeof(RouteAdded), typeof(RouteRemoved),
        typeof(DnsEndpointsAllowanceChanged), typeof(PeerKeyRotated), typeof(KeyRotationIntervalChanged),
    ];

    public static Network? Evolve(Network? state, IEnumerable<object> events) =>
        events.Aggregate(state, Evolve);

    /// <summary>
    /// A removed peer leaves every group and policy that named it, and the routes through it go with it:
    /// nothing in the state refers to a peer that is not there.
    /// </summary>
    private static Network WithoutPeer(Network state, Guid peerId) => state with
    {
        Peers = state.Peers.RemoveAll(p => p.Id == peerId),
        Groups = state.Groups.ConvertAll(g => g.Members.Contains(peerId) ? g with { Members = g.Members.Remove(peerId) } : g),
        Policies = state.Policies.ConvertAll(p => p.Sources.Peers.Contains(peerId) || p.Destinations.Peers.Contains(peerId)
            ? p with { Sources = Without(p.Sources, peers: peerId), Destinations = Without(p.Destinations, peers: peerId) }
            : p),
        Routes = state.Routes.RemoveAll(r => r.ViaPeerId == peerId),
    };

    /// <summary>A deleted group leaves every policy and route that named it.</summary>
    private static Network WithoutGroup(Network state, Guid groupId) => state with
    {
        Groups = state.Groups.RemoveAll(g => g.Id == groupId),
        Policies = state.Policies.ConvertAll(p => p.Sources.Groups.Contains(groupId) || p.Destinations.Groups.Contains(groupId)
            ? p with { Sources = Without(p.Sources, groups: groupId), Destinations = Without(p.Destinations, groups: groupId) }
            : p),
        Routes = state.Routes.ConvertAll(r => r.Groups.Contains(groupId) ? r with { Groups = r.Groups.Remove(groupId) } : r),
    };

    private static PolicyTargets Without(PolicyTargets targets, Guid? groups = null, Guid? peers = null) => new(
        [.. targets.Groups.Where(g => g != groups)], [.. targets.Peers.Where(p => p != peers)]);

    private static Network WithGroup(Network state, Guid groupId, DateTimeOffset at, Func<GroupState, GroupState> change)
    {
        var index = state.Groups.FindIndex(g => g.Id == groupId);
        if (index < 0) return state;
        return state with { UpdatedAt = at, Groups = state.Groups.SetItem(index, change(state.Groups[index]) with { UpdatedAt = at }) };
    }

    private static Network WithPolicy(Network state, Guid policyId, DateTimeOffset at, Func<PolicyState, PolicyState> change)
    {
        var index = state.Policies.FindIndex(p => p.Id == policyId);
        if (index < 0) return state;
        return state with { UpdatedAt = at, Policies = state.Policies.SetItem(index, change(state.Policies[index]) with { UpdatedAt = at }) };
    }

    private static Network WithPeer(Network state, Guid peerId, DateTimeOffset at, Func<PeerState, PeerState> change)
    {
        var index = state.Peers.FindIndex(p => p.Id == peerId);
        if (index < 0) return state;
        var peer = change(state.Peers[index]) with { UpdatedAt = at };
        return state with { UpdatedAt = at, Peers = state.Peers.SetItem(index, peer) };
    }
}
