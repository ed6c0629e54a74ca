using Marten;
using Wirety.Server.LiveChannel;

namespace Wirety.Server.Auth.Sessions;

/// <summary>
/// Closes live channels whose UI session has ended on any instance (signed out there, its token revoked, swept):
/// every <see cref="CheckInterval"/>, while such channels are open here, one lookup of their sessions. A sign-out
/// closes the channels on its own instance at once; expiry is the live channel's own sweep (the principal's expiry).
/// </summary>
public sealed class SessionLiveChannels(LiveHub hub, IDocumentStore store, TimeProvider clock, ILogger<SessionLiveChannels> log) : BackgroundService
{
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(CheckInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try { await CloseEndedAsync(stoppingToken); }
                catch (Exception e) when (e is not OperationCanceledException) { log.LogWarning(e, "Could not check the UI sessions of the open live channels"); }
            }
        }
        catch (OperationCanceledException) { } // stopping
    }

    public async Task CloseEndedAsync(CancellationToken ct)
    {
        var open = hub.OpenSessions();
        if (open.Count == 0) return;
        var now = clock.GetUtcNow();
        await using var db = store.QuerySession();
        var ids = open.ToArray();
        var live = (await db.Query<UiSession>().Where(s => ids.Contains(s.Id)).ToListAsync(ct))
            .Where(s => s.IsUsableAt(now)).Select(s => s.Id).ToHashSet();
        var ended = open.Where(id => !live.Contains(id)).ToHashSet();
        if (ended.Count > 0) await hub.CloseSessionsAsync(ended, "session ended");
    }
}
