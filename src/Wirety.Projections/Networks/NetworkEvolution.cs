using Wirety.Events.Networks;
using Wirety.Events.Peers;

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
        (_, PeerRemoved e) => state with { UpdatedAt = e.At, Peers = state.Peers.RemoveAll(p => p.Id == e.PeerId) },
        (_, PeerEnrolled e) => WithPeer(state, e.PeerId, e.At, p => p with
        {
            PublicKey = e.PublicKey, Hostname = e.Hostname, SessionId = e.SessionId, EnrolledAt = e.At, ObservedEndpoint = null,
        }),
        (_, EndpointChanged e) => WithPeer(state, e.PeerId, e.At, p => p with { ObservedEndpoint = e.Endpoint }),
        (_, PeerBlocked e) => WithPeer(state, e.PeerId, e.At, p => p with { Blocked = true, BlockReason = e.Reason }),
        (_, PeerUnblocked e) => WithPeer(state, e.PeerId, e.At, p => p with { Blocked = false, BlockReason = null }),
        _ => state,
    };

    /// <summary>Whether the event belongs to a network stream (and so can change the network's state and configs).</summary>
    public static bool Handles(object @event) => @event is NetworkCreated or NetworkUpdated or NetworkDeleted or NetworkSecurityChanged
        or PeerAdded or PeerUpdated or PeerRemoved or PeerBlocked or PeerUnblocked or PeerEnrolled or EndpointChanged;

    public static Network? Evolve(Network? state, IEnumerable<object> events) =>
        events.Aggregate(state, Evolve);

    private static Network WithPeer(Network state, Guid peerId, DateTimeOffset at, Func<PeerState, PeerState> change)
    {
        var index = state.Peers.FindIndex(p => p.Id == peerId);
        if (index < 0) return state;
        var peer = change(state.Peers[index]) with { UpdatedAt = at };
        return state with { UpdatedAt = at, Peers = state.Peers.SetItem(index, peer) };
    }
}
