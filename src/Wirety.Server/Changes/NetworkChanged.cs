using Marten;
using Marten.Services;
using Wirety.Projections.Agents;
using Wirety.Projections.Configs;
using Wirety.Projections.Tokens;
using Wirety.Server.AgentDeltas;
using Wirety.Server.Agents;
using Wirety.Server.Auth;
using Wirety.Server.Configs;
using Wirety.Server.LiveChannel;

namespace Wirety.Server.Changes;

public sealed record PeerSession(Guid PeerId, Guid SessionId);

/// <summary>
/// A commit changed a network stream up to <see cref="Version"/>. Every instance applies it through
/// <see cref="ChangeFeed"/> and then handles it off the request path in <see cref="NetworkChangedHandler"/>:
/// push config-changed to the affected agents connected here, close the sockets of revoked sessions.
/// <see cref="Full"/>: the lists were too big to send, so treat every peer of the network as affected.
/// <see cref="Version"/> is the commit's last network-state event (the version configs are stamped with);
/// <see cref="Since"/> and <see cref="Through"/> are the stream's version before and after the commit (every event
/// of the stream counts), so that a handler can tell whether the state it saw last is exactly the one this commit
/// started from (agent deltas: <see cref="AgentDeltas.AgentDeltaPublisher"/>). Null from older instances.
/// </summary>
public sealed record NetworkChanged(
    Guid NetworkId, long Version, IReadOnlyList<Guid> RemovedPeers, IReadOnlyList<PeerSession> Enrollments, bool NetworkDeleted,
    bool Full = false, long? Since = null, long? Through = null)
{
    public NetworkChanged Reduced() => this with { RemovedPeers = [], Enrollments = [], Full = true };
}

/// <summary>This instance's change feed was interrupted; notices may have been missed (see <see cref="ChangeFeedListener"/>).</summary>
public sealed record ChangeFeedResumed;

/// <summary>
/// The one hook on every Marten session of this instance. Before the commit it queues one <c>pg_notify</c>
/// per change into the same transaction, so exactly the committed changes reach the other instances, at
/// commit. After the commit it hands the same changes to <see cref="ChangeFeed"/> here and now, so
/// this instance's caches are clean before the HTTP response leaves, and the commit's live notices to
/// the admins connected here (other instances relay them from the NOTIFY). Collaborators are resolved on
/// use: they depend on the document store this listener is part of.
/// </summary>
public sealed class CommitListener(IServiceProvider services) : DocumentSessionListenerBase
{
    public override async Task BeforeSaveChangesAsync(IDocumentSession session, CancellationToken token)
    {
        // Runs after Marten has numbered the new events and run the inline projections. The numbers are
        // final because network streams are only started (StartStream) or appended to after
        // FetchForExclusiveWriting, which knows the current version; a plain Append would not.
        // Payloads carry ids only, signed (NoticeSigner) so that no other database role can forge one.
        var feed = services.GetRequiredService<ChangeFeed>();
        var events = session.PendingChanges.Streams().SelectMany(s => s.Events).ToList();
        var notices = ChangeNotice.Of(feed.InstanceId, events).Concat(ChangeNotice.LiveOf(feed.InstanceId, events)).ToList();
        if (notices.Count == 0) return;
        var signer = services.GetRequiredService<NoticeSigner>();
        await signer.EnsureLoadedAsync(token); // loaded at start; here only if this commit came first
        foreach (var notice in notices)
            session.QueueSqlCommand("select pg_notify(?, ?)", ChangeFeed.Channel, signer.Sign(notice.ToPayload()));
    }

    public override async Task AfterCommitAsync(IDocumentSession session, IChangeSet commit, CancellationToken token)
    {
        var feed = services.GetRequiredService<ChangeFeed>();
        var events = commit.GetEvents().ToList();
        foreach (var notice in ChangeNotice.Of(feed.InstanceId, events))
            await feed.DeliverAsync(notice);
        feed.PublishLive(events);
    }
}

public static class NetworkChangedHandler
{
    public static async Task Handle(NetworkChanged message, IQuerySession session, AgentSockets sockets, ConfigCache configs,
        AgentDeltaPublisher deltas, ILogger<NetworkChanged> log, CancellationToken ct)
    {
        if (message.Full)
            await CloseRevokedAsync(sockets.Connected().Where(a => a.NetworkId == message.NetworkId).ToList(), session, sockets, ct);
        else
            await sockets.DisconnectWhereAsync(agent => agent.NetworkId == message.NetworkId
                && (message.NetworkDeleted || message.RemovedPeers.Contains(agent.PeerId)
                    || message.Enrollments.Any(e => e.PeerId == agent.PeerId && e.SessionId != agent.SessionId)),
                "session revoked");

        // The configs this change altered are exactly those stamped with its version. Only agents connected
        // here matter; the source loaded for this is the one their fetches are then rendered from.
        if (message.NetworkDeleted || !sockets.Connected().Any(a => a.NetworkId == message.NetworkId))
        {
            await deltas.PublishAsync(message, ct); // forgets what it kept for the network
            return;
        }
        if (await configs.SourceAsync(message.NetworkId) is not { Peers: { } stamps }) return;
        sockets.NotifyConfigChanged(stamps.Where(s => s.Value.Version == message.Version).Select(s => s.Key), message.Version);
        // Delta sockets (?deltas=1) get signed envelopes instead. The change is committed: a failure here costs those
        // agents a resync (their reconcile timer fetches the config), and must not retry the config-changed pushes above.
        try
        {
            await deltas.PublishAsync(message, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogError(e, "Could not send the agent deltas of network {NetworkId} version {Version}", message.NetworkId, message.Version);
        }
    }

    /// <summary>
    /// After a gap in the change feed nothing is known about what changed: close what was revoked and
    /// tell every other agent here its current version (an unchanged config then costs it a 304).
    /// </summary>
    public static async Task Handle(ChangeFeedResumed message, IQuerySession session, AgentSockets sockets, ConfigCache configs, LiveHub liveHub,
        AgentDeltaPublisher deltas, CancellationToken ct)
    {
        await CloseRevokedLiveChannelsAsync(liveHub, session, ct);
        var agents = sockets.Connected();
        if (agents.Count == 0) return;
        await CloseRevokedAsync(agents, session, sockets, ct);
        foreach (var network in agents.GroupBy(a => a.NetworkId))
        {
            if (await configs.SourceAsync(network.Key) is not { } source) continue;
            foreach (var peerId in network.Select(a => a.PeerId).Distinct().Where(p => source.Network.FindPeer(p) is not null))
                sockets.NotifyConfigChanged(peerId, source.VersionOf(peerId));
        }
        await deltas.ResyncAsync(ct);
    }

    /// <summary>A token revoked during the gap: its live channels here never heard of it.</summary>
    private static async Task CloseRevokedLiveChannelsAsync(LiveHub liveHub, IQuerySession session, CancellationToken ct)
    {
        var open = liveHub.OpenTokens().ToList();
        if (open.Count == 0) return;
        var usable = (await session.Query<ApiToken>().Where(t => open.Contains(t.Id) && t.RevokedAt == null).Select(t => t.Id).ToListAsync(ct)).ToHashSet();
        foreach (var revoked in open.Where(t => !usable.Contains(t)))
            await liveHub.CloseTokenAsync(revoked, "token revoked");
    }

    private static async Task CloseRevokedAsync(IReadOnlyList<AgentIdentity> agents, IQuerySession session, AgentSockets sockets, CancellationToken ct)
    {
        if (agents.Count == 0) return;
        var ids = agents.Select(a => a.SessionId).Distinct().ToList();
        var live = (await session.Query<AgentSession>().Where(s => ids.Contains(s.Id) && s.RevokedAt == null).Select(s => s.Id).ToListAsync(ct))
            .ToHashSet();
        var revoked = agents.Where(a => !live.Contains(a.SessionId)).Select(a => a.SessionId).ToHashSet();
        if (revoked.Count > 0) await sockets.DisconnectWhereAsync(a => revoked.Contains(a.SessionId), "session revoked");
    }
}
