using Wirety.Events.Peers;
using Wirety.Events.Segmentation;
using Wirety.Projections.Networks;
using Wirety.Projections.Segmentation;

namespace Wirety.Projections.Configs;

/// <summary>
/// Which peers' configs a change can alter, so the config projection re-renders O(affected) configs
/// instead of all N (each render is O(N); rebuilding every config on every change would be O(N²)).
/// The answer may include peers whose config turns out unchanged (their version then stays the same),
/// but never misses one whose config changed: that is checked by a property test against
/// <see cref="ConfigBuilder"/>.
/// </summary>
public static class ConfigImpact
{
    /// <param name="before">The network before the change; null when the change created it.</param>
    /// <param name="after">The network after the change; null when the change deleted it.</param>
    /// <param name="touchedPeerIds">Peers the change added, removed or modified.</param>
    /// <param name="networkSettingsChanged">DNS, domain, MTU or anything else every config carries.</param>
    /// <returns>Ids of peers in <paramref name="after"/> whose config may differ.</returns>
    public static IReadOnlySet<Guid> AffectedPeers(
        Network? before, Network? after, IReadOnlyCollection<Guid> touchedPeerIds, bool networkSettingsChanged)
    {
        ArgumentNullException.ThrowIfNull(touchedPeerIds);
        if (after is null) return new HashSet<Guid>();
        if (before is null || networkSettingsChanged) return AllPeers(after);

        // Each touched peer as it was and as it is (either may be missing: added or removed).
        var versions = touchedPeerIds
            .SelectMany(id => new[] { before.FindPeer(id), after.FindPeer(id) })
            .OfType<PeerState>()
            .ToList();

        // A jump appears in every config (and which jump is primary shapes every config); routes
        // behind a peer can ride on the primary jump's entry in any config, and so can routes through it.
        if (versions.Any(p => p.Kind == PeerKind.Jump || p.AdditionalAllowedIps.Length > 0
            || before.Routes.Concat(after.Routes).Any(r => r.ViaPeerId == p.Id)))
            return AllPeers(after);

        var affected = touchedPeerIds.Where(id => after.FindPeer(id) is not null).ToHashSet();
        // Jumps list usable peers, and their filters drop blocked ones.
        if (versions.Any(p => ConfigBuilder.IsUsable(p) || p.Blocked))
            affected.UnionWith(after.Peers.Where(p => p.Kind == PeerKind.Jump).Select(p => p.Id));
        if (versions.Any(ConfigBuilder.IsMeshMember))
            affected.UnionWith(after.Peers.Where(p => p.Kind == PeerKind.Dynamic && !p.Isolated).Select(p => p.Id));

        // Routes: the peers they go through list their users in their filters.
        affected.UnionWith(after.Routes.Select(r => r.ViaPeerId).Where(id => after.FindPeer(id) is not null));

        // Under deny, a peer's filter names the peers policy lets reach it, and its mesh entries the peers it is
        // connected to: both sides of every connection the touched peers had or have.
        if (before.DefaultPolicy == DefaultPolicy.Deny || after.DefaultPolicy == DefaultPolicy.Deny)
            foreach (var network in new[] { before, after })
            {
                var access = AccessRules.Of(network);
                foreach (var touched in touchedPeerIds)
                    if (network.FindPeer(touched) is { } peer)
                        affected.UnionWith(network.Peers.Where(p => access.Connected(p, peer)).Select(p => p.Id).Where(id => after.FindPeer(id) is not null));
            }
        return affected;
    }

    /// <summary>
    /// Which peers' configs one group, policy or route event can alter, from the network just before it to just
    /// after it; null means every peer (the default policy and routes shape every config, as does anything
    /// that is not a segmentation event). A policy touches the peers it covers, before and after; a group's
    /// membership the peers that joined or left plus those covered by the policies naming the group; either
    /// also the jumps (their forward filter) and the peers routes go through (whom they offer the route to).
    /// Checked against <see cref="ConfigBuilder"/> by a property test, like <see cref="AffectedPeers"/>.
    /// </summary>
    public static IReadOnlySet<Guid>? AffectedBySegmentation(Network before, Network after, object @event)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var affected = new HashSet<Guid>();
        switch (@event)
        {
            case GroupCreated or GroupUpdated:
                return affected; // a name or a description: in no config
            case PolicyCreated or PolicyUpdated or PolicyDeleted:
                var policyId = @event switch { PolicyCreated c => c.PolicyId, PolicyUpdated u => u.PolicyId, _ => ((PolicyDeleted)@event).PolicyId };
                foreach (var network in new[] { before, after })
                    if (network.FindPolicy(policyId) is { } policy) AddCovered(network, policy, affected);
                break;
            case GroupMembersSet or GroupDeleted:
                var groupId = @event is GroupMembersSet set ? set.GroupId : ((GroupDeleted)@event).GroupId;
                // A route whose only group goes is offered to everyone: the fold allows it (the API refuses it).
                if (@event is GroupDeleted && before.Routes.Any(r => r.Groups.Contains(groupId))) return null;
                var was = before.FindGroup(groupId)?.Members ?? [];
                var @is = after.FindGroup(groupId)?.Members ?? [];
                affected.UnionWith(was.Except(@is).Union(@is.Except(was)));
                foreach (var network in new[] { before, after })
                    foreach (var policy in network.Policies)
                        if (policy.Sources.Groups.Contains(groupId) || policy.Destinations.Groups.Contains(groupId))
                            AddCovered(network, policy, affected);
                break;
            default:
                return null;
        }
        foreach (var network in new[] { before, after })
        {
            affected.UnionWith(network.Peers.Where(p => p.Kind == PeerKind.Jump).Select(p => p.Id));
            affected.UnionWith(network.Routes.Select(r => r.ViaPeerId));
        }
        affected.RemoveWhere(id => after.FindPeer(id) is null);
        return affected;
    }

    /// <summary>
    /// Where only policies (and the default policy) differ between two states of a network, as in a what-if: the
    /// peers each changed policy covers as sources and as destinations, before and after; null when the default
    /// policy changed (every pair may change). Every pair whose access differs has its source in
    /// <c>Sources</c> and its destination in <c>Destinations</c>; every config that differs belongs to one of
    /// them, a jump, or a peer routes go through (<see cref="WithForwarders"/>).
    /// </summary>
    public static (HashSet<Guid> Sources, HashSet<Guid> Destinations)? PolicyScope(Network before, Network after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        if (before.DefaultPolicy != after.DefaultPolicy) return null;
        var sources = new HashSet<Guid>();
        var destinations = new HashSet<Guid>();
        foreach (var id in before.Policies.Select(p => p.Id).Union(after.Policies.Select(p => p.Id)))
        {
            var was = before.FindPolicy(id);
            var @is = after.FindPolicy(id);
            if (was is not null && @is is not null && SamePolicy(was, @is)) continue;
            foreach (var (network, policy) in new[] { (before, was), (after, @is) })
            {
                if (policy is null) continue;
                var access = AccessRules.Of(network);
                sources.UnionWith(access.Resolve(policy.Sources).Select(i => network.Peers[i].Id));
                destinations.UnionWith(access.Resolve(policy.Destinations).Select(i => network.Peers[i].Id));
            }
        }
        return (sources, destinations);
    }

    /// <summary><paramref name="peers"/> plus the jumps and the peers routes go through: their filters name other peers' access.</summary>
    public static HashSet<Guid> WithForwarders(Network network, IEnumerable<Guid> peers)
    {
        var result = peers.ToHashSet();
        result.UnionWith(network.Peers.Where(p => p.Kind == PeerKind.Jump).Select(p => p.Id));
        result.UnionWith(network.Routes.Select(r => r.ViaPeerId));
        result.RemoveWhere(id => network.FindPeer(id) is null);
        return result;
    }

    private static bool SamePolicy(PolicyState a, PolicyState b) =>
        a.Ports.SequenceEqual(b.Ports) && a.Sources.Groups.SequenceEqual(b.Sources.Groups) && a.Sources.Peers.SequenceEqual(b.Sources.Peers)
        && a.Destinations.Groups.SequenceEqual(b.Destinations.Groups) && a.Destinations.Peers.SequenceEqual(b.Destinations.Peers);

    private static void AddCovered(Network network, PolicyState policy, HashSet<Guid> affected)
    {
        var access = AccessRules.Of(network);
        foreach (var index in access.Resolve(policy.Sources).Concat(access.Resolve(policy.Destinations)))
            affected.Add(network.Peers[index].Id);
    }

    private static HashSet<Guid> AllPeers(Network network) => network.Peers.Select(p => p.Id).ToHashSet();
}
