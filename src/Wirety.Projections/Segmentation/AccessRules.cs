using System.Numerics;
using System.Runtime.CompilerServices;
using Wirety.Events.Addressing;
using Wirety.Events.Peers;
using Wirety.Events.Segmentation;
using Wirety.Projections.Networks;

namespace Wirety.Projections.Segmentation;

/// <summary>
/// Who may open connections to whom in one network, compiled once per (immutable) <see cref="Network"/>
/// value. The rules, in order:
/// <list type="number">
/// <item>a peer never needs a rule to itself; a blocked peer reaches nobody and nobody reaches it;</item>
/// <item>an isolated peer talks to jump peers only, whatever the policies say;</item>
/// <item>under <see cref="DefaultPolicy.Allow"/> everything else is allowed (the flat mesh);</item>
/// <item>under <see cref="DefaultPolicy.Deny"/>, A may reach B on the union of the ports of every policy with A
/// among its sources and B among its destinations.</item>
/// </list>
/// Replies are not rules: a connection that may be opened may be answered. Each peer carries a bit set of
/// the policies it is a source of and one of those it is a destination of, so a pair costs
/// O(policies / 64) and nothing is O(N²) until someone asks for every pair.
/// </summary>
public sealed class AccessRules
{
    private static readonly ConditionalWeakTable<Network, AccessRules> Compiled = new();

    private readonly Dictionary<Guid, int> _index;
    private readonly ulong[][] _asSource;
    private readonly ulong[][] _asDestination;
    private readonly PortSet[] _ports;
    private readonly int[][] _sources;
    private readonly int[][] _destinations;
    private readonly Dictionary<Guid, HashSet<Guid>> _groupsOf = [];

    private AccessRules(Network network)
    {
        Network = network;
        _index = new Dictionary<Guid, int>(network.Peers.Count);
        for (var i = 0; i < network.Peers.Count; i++) _index[network.Peers[i].Id] = i;
        foreach (var group in network.Groups)
            foreach (var member in group.Members)
                (_groupsOf.TryGetValue(member, out var set) ? set : _groupsOf[member] = []).Add(group.Id);

        var words = (network.Policies.Count + 63) / 64;
        _asSource = new ulong[network.Peers.Count][];
        _asDestination = new ulong[network.Peers.Count][];
        for (var i = 0; i < network.Peers.Count; i++)
        {
            _asSource[i] = new ulong[words];
            _asDestination[i] = new ulong[words];
        }
        _ports = new PortSet[network.Policies.Count];
        _sources = new int[network.Policies.Count][];
        _destinations = new int[network.Policies.Count][];
        for (var p = 0; p < network.Policies.Count; p++)
        {
            var policy = network.Policies[p];
            _ports[p] = PortSet.OfPolicy(policy.Ports);
            _sources[p] = [.. Resolve(policy.Sources)];
            _destinations[p] = [.. Resolve(policy.Destinations)];
            foreach (var i in _sources[p]) _asSource[i][p / 64] |= 1UL << (p % 64);
            foreach (var i in _destinations[p]) _asDestination[i][p / 64] |= 1UL << (p % 64);
        }
    }

    public static AccessRules Of(Network network)
    {
        ArgumentNullException.ThrowIfNull(network);
        return Compiled.GetValue(network, n => new AccessRules(n));
    }

    public Network Network { get; }

    /// <summary>The peers a policy side covers (members of its groups and its peers), as indexes into <see cref="Network.Peers"/>, sorted.</summary>
    public SortedSet<int> Resolve(PolicyTargets targets)
    {
        var result = new SortedSet<int>();
        foreach (var peerId in targets.Peers)
            if (_index.TryGetValue(peerId, out var i)) result.Add(i);
        foreach (var groupId in targets.Groups)
            if (Network.FindGroup(groupId) is { } group)
                foreach (var member in group.Members)
                    if (_index.TryGetValue(member, out var i)) result.Add(i);
        return result;
    }

    /// <summary>Policy <paramref name="index"/> (into <see cref="Network.Policies"/>): its sources and destinations (peer indexes) and ports.</summary>
    public (IReadOnlyList<int> Sources, IReadOnlyList<int> Destinations, PortSet Ports) Policy(int index) =>
        (_sources[index], _destinations[index], _ports[index]);

    /// <summary>The indexes of the policies with <paramref name="peerId"/> among their destinations, in policy order.</summary>
    public IEnumerable<int> PoliciesTo(Guid peerId)
    {
        if (!_index.TryGetValue(peerId, out var i)) yield break;
        var bits = _asDestination[i];
        for (var w = 0; w < bits.Length; w++)
            for (var word = bits[w]; word != 0; word &= word - 1)
                yield return w * 64 + BitOperations.TrailingZeroCount(word);
    }

    public bool InGroup(Guid peerId, Guid groupId) => _groupsOf.TryGetValue(peerId, out var groups) && groups.Contains(groupId);

    /// <summary>What <paramref name="from"/> may open towards <paramref name="to"/>.</summary>
    public PortSet Allowed(PeerState from, PeerState to)
    {
        if (!PolicyApplies(from, to)) return PortSet.None;
        if (Network.DefaultPolicy == DefaultPolicy.Allow) return PortSet.Everything;
        var result = PortSet.None;
        if (!_index.TryGetValue(from.Id, out var f) || !_index.TryGetValue(to.Id, out var t)) return result;
        var sources = _asSource[f];
        var destinations = _asDestination[t];
        for (var w = 0; w < sources.Length; w++)
        {
            var bits = sources[w] & destinations[w];
            while (bits != 0)
            {
                var p = w * 64 + BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                result = result.Union(_ports[p]);
                if (result.IsEverything) return result;
            }
        }
        return result;
    }

    /// <summary>Whether either may open connections to the other: then both need a tunnel between them.</summary>
    public bool Connected(PeerState a, PeerState b) => !Allowed(a, b).IsEmpty || !Allowed(b, a).IsEmpty;

    /// <summary>The rules before any policy: not to itself, not with a blocked peer, an isolated peer with jumps only.</summary>
    public static bool PolicyApplies(PeerState from, PeerState to) =>
        from.Id != to.Id && !from.Blocked && !to.Blocked
        && !(from.Isolated && to.Kind != PeerKind.Jump) && !(to.Isolated && from.Kind != PeerKind.Jump);

    /// <summary>
    /// What <paramref name="peer"/> may open towards <paramref name="route"/>'s subnet: nothing unless the route is
    /// offered to it (a member of one of its groups, or every peer when it names none) and it is not the route's
    /// own peer; then what it may open towards that peer.
    /// </summary>
    public PortSet RouteAccess(RouteState route, PeerState peer)
    {
        if (peer.Id == route.ViaPeerId || Network.FindPeer(route.ViaPeerId) is not { } via) return PortSet.None;
        if (!route.Groups.IsEmpty && !route.Groups.Any(g => InGroup(peer.Id, g))) return PortSet.None;
        return Allowed(peer, via);
    }

    /// <summary>An exit node's route: the default route, through a peer that is not a jump.</summary>
    public static bool IsExit(RouteState route) => IpPrefix.TryParse(route.Cidr, out var prefix, out _) && prefix.IsDefault;

    /// <summary>Every ordered pair that may connect, in peer creation order; optionally only pairs involving <paramref name="peerId"/>.</summary>
    public IEnumerable<(PeerState From, PeerState To, PortSet Ports)> Pairs(Guid? peerId = null)
    {
        foreach (var from in Network.Peers)
            foreach (var to in Network.Peers)
            {
                if (peerId is { } only && from.Id != only && to.Id != only) continue;
                var ports = Allowed(from, to);
                if (!ports.IsEmpty) yield return (from, to, ports);
            }
    }
}
