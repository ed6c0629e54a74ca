using System.Threading.Channels;
using Marten;
using Wirety.Events.Peers;
using Wirety.Projections.Agents;

namespace Wirety.Server.Agents;

/// <summary>
/// Group commit for heartbeats: concurrent requests queue their event here, one loop appends whatever
/// has gathered (up to <see cref="MaxBatch"/>) in a single transaction, and each request is
/// acknowledged only once that transaction has committed. Many heartbeats per commit is what lets
/// ingestion run well past the one-commit-per-request ceiling of the database.
/// </summary>
public sealed class HeartbeatIngestor(IDocumentStore store, ILogger<HeartbeatIngestor> log) : BackgroundService
{
    public const int MaxBatch = 256;
    /// <summary>Two: one batch fills while the other commits; more only splits batches into more WAL flushes.</summary>
    public const int Committers = 2;
    private readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(
        new BoundedChannelOptions(20_000) { SingleReader = false, FullMode = BoundedChannelFullMode.Wait });

    private sealed record Pending(HeartbeatReceived Heartbeat, TaskCompletionSource Committed);

    /// <summary>Completes when the heartbeat's event is committed; throws when it could not be.</summary>
    public async Task AppendAsync(HeartbeatReceived heartbeat, CancellationToken ct)
    {
        var pending = new Pending(heartbeat, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        await _queue.Writer.WriteAsync(pending, ct);
        await pending.Committed.Task.WaitAsync(ct);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, Committers).Select(_ => CommitLoopAsync(stoppingToken)));

    private async Task CommitLoopAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Pending>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync(stoppingToken))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var next)) batch.Add(next);
            if (batch.Count == 0) continue; // another committer took them
            try
            {
                await using var session = store.LightweightSession();
                foreach (var group in batch.GroupBy(p => p.Heartbeat.PeerId))
                    session.Events.Append(HeartbeatStreams.For(group.Key), group.Select(p => (object)p.Heartbeat).ToArray());
                await session.SaveChangesAsync(stoppingToken);
                foreach (var p in batch) p.Committed.TrySetResult();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogError(e, "Could not commit a batch of {Count} heartbeats", batch.Count);
                foreach (var p in batch) p.Committed.TrySetException(new HeartbeatNotRecordedException(e));
            }
        }
    }
}

public sealed class HeartbeatNotRecordedException(Exception inner) : Exception("The heartbeat could not be recorded.", inner);
