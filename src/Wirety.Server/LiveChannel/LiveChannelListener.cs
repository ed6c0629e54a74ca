using Marten;
using Marten.Services;
using Wirety.Events.Networks;
using Wirety.Events.Peers;

namespace Wirety.Server.LiveChannel;

/// <summary>
/// Runs after every committed Marten session (admin changes, enrollments, endpoint observations and
/// the heartbeat group commits alike). It only maps and enqueues (<see cref="LiveHub.Publish(IReadOnlyList{LiveNotice})"/>
/// never blocks); serialization and sending happen on the hub's loop. With no admin connected it
/// builds nothing.
/// </summary>
public sealed class LiveChannelListener(LiveHub hub, PeerPresence presence, ILogger<LiveChannelListener> log) : DocumentSessionListenerBase
{
    public override Task AfterCommitAsync(IDocumentSession session, IChangeSet commit, CancellationToken token)
    {
        try
        {
            var events = commit.GetEvents();
            foreach (var e in events)
                switch (e.Data)
                {
                    case PeerRemoved removed: presence.Forget(removed.PeerId); break;
                    case NetworkDeleted deleted: presence.ForgetNetwork(deleted.NetworkId); break;
                }
            if (hub.HasListeners) hub.Publish(LiveNotices.FromCommit(events));
        }
        catch (Exception e)
        {
            // The commit has happened; a lost notice costs an admin a refresh, never the request.
            log.LogError(e, "Could not publish the live notices of a commit");
        }
        return Task.CompletedTask;
    }
}
