using System.Collections.Concurrent;

namespace Wirety.Server.LiveChannel;

/// <summary>
/// Which peers' agents are alive, as seen by this instance. A peer is online while its agent holds an
/// agent WebSocket here, or sent a heartbeat within <see cref="LiveChannelOptions.PresenceGrace"/>.
/// Going online is announced at once (first heartbeat, socket opened); going offline when
/// <see cref="Sweep"/> finds the grace run out (<see cref="PresenceSweeper"/> calls it periodically).
/// In memory only: after a restart every peer is offline until its next heartbeat.
/// </summary>
public sealed class PeerPresence(LiveHub hub, TimeProvider clock, LiveChannelOptions options)
{
    private readonly ConcurrentDictionary<Guid, Entry> _peers = new();
    private readonly long _graceTicks = options.PresenceGrace.Ticks;

    public sealed record PeerStatus(bool Online, DateTimeOffset LastSeen);

    private sealed class Entry(Guid networkId, long seenTicks)
    {
        public Guid NetworkId { get; } = networkId;
        public long LastSeenTicks = seenTicks;
        public int Sockets;
        /// <summary>1 when online was the last thing announced. Changed only under <see cref="Gate"/>, so transitions are announced once and in order.</summary>
        public int Online;
        public readonly Lock Gate = new();
    }

    /// <summary>
    /// A heartbeat from the peer's agent was committed. On the heartbeat path (thousands per second):
    /// for a known, online peer it is a dictionary read and one interlocked write, with no allocation.
    /// </summary>
    public void Seen(Guid peerId, Guid networkId, DateTimeOffset now)
    {
        if (!_peers.TryGetValue(peerId, out var entry))
            entry = _peers.GetOrAdd(peerId, static (_, s) => new Entry(s.networkId, s.ticks), (networkId, ticks: now.UtcTicks));
        // Full fence: the write must be visible before Online is read (see Sweep's re-check).
        Interlocked.Exchange(ref entry.LastSeenTicks, now.UtcTicks);
        if (Volatile.Read(ref entry.Online) == 0) AnnounceOnline(peerId, entry);
    }

    /// <summary>The peer's agent opened its WebSocket on this instance.</summary>
    public void SocketOpened(Guid peerId, Guid networkId)
    {
        var now = clock.GetUtcNow().UtcTicks;
        var entry = _peers.GetOrAdd(peerId, static (_, s) => new Entry(s.networkId, s.now), (networkId, now));
        Interlocked.Increment(ref entry.Sockets);
        Interlocked.Exchange(ref entry.LastSeenTicks, now);
        if (Volatile.Read(ref entry.Online) == 0) AnnounceOnline(peerId, entry);
    }

    /// <summary>The socket closed: the peer was there until now, and stays online for the grace unless it heartbeats.</summary>
    public void SocketClosed(Guid peerId)
    {
        if (!_peers.TryGetValue(peerId, out var entry)) return; // forgotten (peer removed) meanwhile
        Interlocked.Exchange(ref entry.LastSeenTicks, clock.GetUtcNow().UtcTicks);
        Interlocked.Decrement(ref entry.Sockets);
    }

    /// <summary>Announces peer-offline for every online peer whose grace has run out. Returns how many went offline.</summary>
    public int Sweep()
    {
        var now = clock.GetUtcNow().UtcTicks;
        var wentOffline = 0;
        foreach (var (peerId, entry) in _peers)
        {
            if (Volatile.Read(ref entry.Online) == 0 || IsAlive(entry, now)) continue;
            lock (entry.Gate)
            {
                if (entry.Online == 0) continue;
                // Flip first, then look again (both full fences): a heartbeat that raced the first look either
                // shows up here, or its own read of Online sees 0 and announces online after this offline.
                Interlocked.Exchange(ref entry.Online, 0);
                if (IsAlive(entry, now))
                {
                    entry.Online = 1;
                    continue;
                }
                hub.Publish(LiveNotice.Presence(entry.NetworkId, peerId, online: false));
            }
            wentOffline++;
        }
        return wentOffline;
    }

    /// <summary>The peer was removed (or its network deleted): nothing more to say about it.</summary>
    public void Forget(Guid peerId) => _peers.TryRemove(peerId, out _);

    public void ForgetNetwork(Guid networkId)
    {
        foreach (var (peerId, entry) in _peers)
            if (entry.NetworkId == networkId) _peers.TryRemove(peerId, out _);
    }

    /// <summary>What was last announced for the peer and when it was last seen; null when never seen here.</summary>
    public PeerStatus? Of(Guid peerId) =>
        _peers.TryGetValue(peerId, out var entry)
            ? new PeerStatus(Volatile.Read(ref entry.Online) == 1, new DateTimeOffset(Interlocked.Read(ref entry.LastSeenTicks), TimeSpan.Zero))
            : null;

    public void Clear() => _peers.Clear();

    private bool IsAlive(Entry entry, long now) =>
        Volatile.Read(ref entry.Sockets) > 0 || now - Interlocked.Read(ref entry.LastSeenTicks) <= _graceTicks;

    private void AnnounceOnline(Guid peerId, Entry entry)
    {
        lock (entry.Gate)
        {
            if (entry.Online == 1) return;
            entry.Online = 1;
            hub.Publish(LiveNotice.Presence(entry.NetworkId, peerId, online: true));
        }
    }
}

/// <summary>Runs <see cref="PeerPresence.Sweep"/> every <see cref="LiveChannelOptions.PresenceSweepInterval"/>.</summary>
public sealed class PresenceSweeper(PeerPresence presence, LiveChannelOptions options, TimeProvider clock, ILogger<PresenceSweeper> log)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.PresenceSweepInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try { presence.Sweep(); }
                catch (Exception e) { log.LogError(e, "The presence sweep failed"); }
            }
        }
        catch (OperationCanceledException) { } // stopping
    }
}
