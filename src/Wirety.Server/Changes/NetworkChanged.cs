using Marten;
using Marten.Services;
using Wirety.Events.Networks;
using Wirety.Events.Peers;
using Wirety.Projections.Agents;
using Wirety.Projections.Configs;
using Wirety.Projections.Networks;
using Wirety.Server.Agents;
using Wirety.Server.Auth;
using Wirety.Server.Configs;
using Wolverine;

namespace Wirety.Server.Changes;

public sealed record PeerSession(Guid PeerId, Guid SessionId);

/// <summary>
/// A commit changed a network stream up to <see cref="Version"/>. Handled off the request path by
/// <see cref="NetworkChangedHandler"/>: pushes config-changed to the affected agents and closes the
/// sockets of revoked sessions.
/// </summary>
public sealed record NetworkChanged(
    Guid NetworkId, long Version, IReadOnlyList<Guid> RemovedPeers, IReadOnlyList<PeerSession> Enrollments, bool NetworkDeleted);

/// <summary>
/// Runs after every committed Marten session. What must hold before the HTTP response (cached configs
/// and revoked credentials gone) happens here synchronously; the rest goes out as a Wolverine message.
/// Its collaborators are resolved on use: they depend on the document store this listener is part of.
/// </summary>
public sealed class CommitListener(IServiceProvider services) : DocumentSessionListenerBase
{
    public override async Task AfterCommitAsync(IDocumentSession session, IChangeSet commit, CancellationToken token)
    {
        var configs = services.GetRequiredService<ConfigCache>();
        var sessions = services.GetRequiredService<CredentialCache<AgentSession>>();
        foreach (var stream in commit.GetEvents().Where(e => NetworkEvolution.Handles(e.Data)).GroupBy(e => e.StreamId))
        {
            var data = stream.Select(e => e.Data).ToList();
            var changed = new NetworkChanged(stream.Key, stream.Max(e => e.Version),
                data.OfType<PeerRemoved>().Select(r => r.PeerId).ToList(),
                data.OfType<PeerEnrolled>().Select(e => new PeerSession(e.PeerId, e.SessionId)).ToList(),
                data.OfType<NetworkDeleted>().Any());

            configs.InvalidateNetwork(changed.NetworkId);
            if (changed.RemovedPeers.Count > 0 || changed.Enrollments.Count > 0 || changed.NetworkDeleted)
                sessions.EvictWhere(s => changed.NetworkDeleted && s.NetworkId == changed.NetworkId
                    || changed.RemovedPeers.Contains(s.PeerId) || changed.Enrollments.Any(e => e.PeerId == s.PeerId));
            await PublishAsync(changed);
        }
    }

    /// <summary>
    /// The commit has happened, so this must not fail the request. A lost notice costs an agent at most
    /// one poll interval (agents also poll with ETags).
    /// </summary>
    private async Task PublishAsync(NetworkChanged changed)
    {
        try
        {
            await using var scope = services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<IMessageBus>().PublishAsync(changed);
        }
        catch (Exception e)
        {
            services.GetRequiredService<ILogger<CommitListener>>().LogError(e,
                "Could not publish the change notice for network {NetworkId} version {Version}", changed.NetworkId, changed.Version);
        }
    }
}

public static class NetworkChangedHandler
{
    public static async Task Handle(NetworkChanged message, IQuerySession session, AgentSockets sockets, CancellationToken ct)
    {
        await sockets.DisconnectWhereAsync(agent => agent.NetworkId == message.NetworkId
            && (message.NetworkDeleted || message.RemovedPeers.Contains(agent.PeerId)
                || message.Enrollments.Any(e => e.PeerId == agent.PeerId && e.SessionId != agent.SessionId)),
            "session revoked");

        // The configs this change altered are exactly those stamped with its version.
        var changed = await session.Query<PeerConfigDocument>()
            .Where(d => d.NetworkId == message.NetworkId && d.Version == message.Version)
            .Select(d => d.Id).ToListAsync(ct);
        foreach (var peerId in changed)
            await sockets.NotifyConfigChangedAsync(peerId, message.Version);
    }
}
