using JasperFx.Events;
using Marten;
using Marten.Events.Projections;
using Wirety.Events.Networks;
using Wirety.Events.Peers;
using Wirety.Projections.Networks;
using Wirety.Events;

namespace Wirety.Projections.Configs;

/// <summary>
/// Keeps one <see cref="PeerConfigDocument"/> per peer. A change re-renders only the configs it can
/// affect (<see cref="ConfigImpact"/>) and writes only those whose text actually changed, so adding a
/// peer to a large network costs O(N), not O(N²), and unchanged configs keep their ETag.
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
            foreach (var e in stream)
            {
                after = NetworkEvolution.Evolve(after, e.Data);
                version = e.Version;
                if (PeerIdOf(e.Data) is { } peerId) touched.Add(peerId);
                else settingsChanged = true;
            }

            if (after is null)
            {
                operations.Delete<ConfigSource>(stream.Key);
                operations.DeleteWhere<PeerConfigDocument>(d => d.NetworkId == stream.Key);
                continue;
            }

            foreach (var gone in before?.Peers.Where(p => after.FindPeer(p.Id) is null) ?? [])
                operations.Delete<PeerConfigDocument>(gone.Id);

            foreach (var peerId in ConfigImpact.AffectedPeers(before, after, touched, settingsChanged))
            {
                var model = ConfigBuilder.Build(after, peerId);
                var text = WgQuickRenderer.Render(model);
                var masquerade = AgentConfigMapper.MasqueradeSources(after, peerId);
                if (before?.FindPeer(peerId) is not null
                    && WgQuickRenderer.Render(ConfigBuilder.Build(before, peerId)) == text
                    && (AgentConfigMapper.MasqueradeSources(before, peerId) ?? []).SequenceEqual(masquerade ?? []))
                    continue;

                var agentJson = AgentConfigMapper.Serialize(AgentConfigMapper.From(model, version, masquerade));
                operations.Store(new PeerConfigDocument(peerId, after.Id, version, ConfigETag.Compute(text), text,
                    ConfigETag.Compute(agentJson), agentJson));
            }

            operations.Store(new ConfigSource(stream.Key, version, after));
        }
    }

    private static Guid? PeerIdOf(object data) => data switch
    {
        PeerAdded e => e.PeerId,
        PeerUpdated e => e.PeerId,
        PeerRemoved e => e.PeerId,
        PeerBlocked e => e.PeerId,
        PeerUnblocked e => e.PeerId,
        PeerEnrolled e => e.PeerId,
        EndpointChanged e => e.PeerId,
        _ => null,
    };
}
