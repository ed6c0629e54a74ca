using System.Threading.Channels;
using JasperFx.Events;
using Marten;
using Polly;
using Polly.Retry;
using Wirety.Events.Peers;
using Wirety.Projections.Agents;

namespace Wirety.Server.Agents;

/// <summary>
/// Group commit for heartbeats: concurrent requests queue their event here, a committer appends whatever
/// has gathered (up to <see cref="MaxBatch"/>) in a single transaction, and each request is
/// acknowledged only once that transaction has committed. Many heartbeats per commit is what lets
/// ingestion run well past the one-commit-per-request ceiling of the database.
/// Two committers overlap filling one batch with flushing another; peers are partitioned between them
/// so a peer's stream is only ever appended to by one of them (concurrent appends to one stream collide).
/// Per-peer stats are stored as deltas against the session's previous committed beat (<see cref="PeerStatsBaselines"/>),
/// in full every <see cref="FullSnapshotEvery"/>-th beat and whenever the previous beat is unknown.
/// </summary>
public sealed class HeartbeatIngestor(IDocumentStore store, ILogger<HeartbeatIngestor> log) : BackgroundService
{
    public const int MaxBatch = 256, Committers = 2;

    /// <summary>Every 60th beat of a session (30 minutes at the agent's default 30 s) stores its full peer stats.</summary>
    public const int FullSnapshotEvery = 60;

    public PeerStatsBaselines Baselines { get; } = new(FullSnapshotEvery);
    private readonly Channel<Pending>[] _queues = Enumerable.Range(0, Committers)
        .Select(_ => Channel.CreateBounded<Pending>(new BoundedChannelOptions(10_000) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait }))
        .ToArray();

    private sealed record Pending(HeartbeatReceived Heartbeat, TaskCompletionSource Committed);

    /// <summary>
    /// Another server instance appended to one of these streams at the same moment (one identity
    /// heartbeating to two instances): retry a few times, soon and jittered; each attempt re-reads the versions.
    /// </summary>
    private readonly ResiliencePipeline _collisions = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
    {
        ShouldHandle = new PredicateBuilder().Handle<EventStreamUnexpectedMaxEventIdException>(),
        MaxRetryAttempts = 3,
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        Delay = TimeSpan.FromMilliseconds(20),
        MaxDelay = TimeSpan.FromMilliseconds(200),
    }).Build();

    /// <summary>
    /// Completes when the heartbeat's event is committed (its peer stats stored as a delta where possible);
    /// throws when it could not be.
    /// </summary>
    public async Task AppendAsync(HeartbeatReceived heartbeat, CancellationToken ct)
    {
        var compacted = Baselines.Compact(heartbeat);
        var pending = new Pending(compacted.Stored, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        var queue = _queues[(heartbeat.PeerId.GetHashCode() & int.MaxValue) % Committers];
        await queue.Writer.WriteAsync(pending, ct);
        await pending.Committed.Task.WaitAsync(ct);
        Baselines.Committed(heartbeat, compacted);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(_queues.Select(q => CommitLoopAsync(q.Reader, stoppingToken)));

    private async Task CommitLoopAsync(ChannelReader<Pending> queue, CancellationToken stoppingToken)
    {
        var batch = new List<Pending>(MaxBatch);
        while (await queue.WaitToReadAsync(stoppingToken))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && queue.TryRead(out var next)) batch.Add(next);
            try
            {
                await _collisions.ExecuteAsync(CommitAsync, batch, stoppingToken);
                foreach (var p in batch) p.Committed.TrySetResult();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogError(e, "Could not commit a batch of {Count} heartbeats", batch.Count);
                foreach (var p in batch) p.Committed.TrySetException(new HeartbeatNotRecordedException(e));
            }
        }
    }

    private async ValueTask CommitAsync(List<Pending> batch, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        foreach (var group in batch.GroupBy(p => p.Heartbeat.PeerId))
            session.Events.Append(HeartbeatStreams.For(group.Key), group.Select(p => (object)p.Heartbeat).ToArray());
        await session.SaveChangesAsync(ct);
    }
}

public sealed class HeartbeatNotRecordedException(Exception inner) : Exception("The heartbeat could not be recorded.", inner);
