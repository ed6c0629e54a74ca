using JasperFx.Events;
using Marten;
using Marten.Events.Projections;
using Wirety.Events.Peers;
using Wirety.Projections.Networks;

namespace Wirety.Projections.Configs;

/// <summary>
/// Keeps one <see cref="ConfigSource"/> per network: the network state configs are rendered from, and
/// per peer the version at which its config last changed. A change fingerprints only the configs it
/// can affect (<see cref="ConfigImpact"/>) and re-stamps only those whose content actually changed, so
/// unchanged configs keep their version (and, rendered, their ETag). Nothing per peer is rendered or
/// stored here: a mesh-wide change costs O(N) hashing (<see cref="ConfigBuilder.Fingerprints"/>) and one
/// document write, where storing rendered configs wrote O(N²) bytes inside the admin's transaction.
/// </summary>
public sealed class PeerConfigProjection : IProjection
{
    public async Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        foreach (var stream in events.Where(e => NetworkEvolution.Handles(e.Data)).GroupBy(e => e.StreamId))
        {
            var source = await operations.LoadAsync<ConfigSource>(stream.Key, cancellation);
            var before = source?.Network;
            var after = before;
            var touched = new HashSet<Guid>();
            var settingsChanged = false;
            long version = source?.Version ?? 0;
            var segmentation = new HashSet<Guid>();
            foreach (var e in stream)
            {
                var previous = after;
                after = NetworkEvolution.Evolve(after, e.Data);
                version = e.Version;
                if (PeerIdOf(e.Data) is { } peerId) touched.Add(peerId);
                else if (previous is not null && after is not null && ConfigImpact.AffectedBySegmentation(previous, after, e.Data) is { } some)
                    segmentation.UnionWith(some);
                else settingsChanged = true;
            }

            if (after is null)
            {
                operations.Delete<ConfigSource>(stream.Key);
                continue;
            }

            var stamps = source?.Peers.Where(s => after.FindPeer(s.Key) is not null).ToDictionary() ?? [];
            var affected = ConfigImpact.AffectedPeers(before, after, touched, settingsChanged)
                .Union(segmentation.Where(id => after.FindPeer(id) is not null)).ToList();
            foreach (var (peerId, fingerprint) in ConfigBuilder.Fingerprints(after, affected))
                if (!stamps.TryGetValue(peerId, out var stamp) || stamp.Fingerprint != fingerprint)
                    stamps[peerId] = new PeerConfigStamp(version, fingerprint);

            operations.Store(new ConfigSource(stream.Key, version, after, stamps));
        }
    }

    /// <summary>The one peer a peer event changes; null for any other network event (settings, groups, policies, routes).</summary>
    public static Guid? PeerIdOf(object data) => data switch
    {
        PeerAdded e => e.PeerId,
        PeerUpdated e => e.PeerId,
        PeerRemoved e => e.PeerId,
        PeerBlocked e => e.PeerId,
        PeerUnblocked e => e.PeerId,
        PeerEnrolled e => e.PeerId,
        PeerKeyRotated e => e.PeerId,
        EndpointChanged e => e.PeerId,
        _ => null,
    };
}
