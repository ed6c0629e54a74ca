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

    private static HashSet<Guid> AllPeers(Network network) => network.Peers.Select(p => p.Id).ToHashSet();
}
