using Npgsql;
using Wirety.Events.Peers;
using Wirety.Projections;

namespace Wirety.Server.Operations;

/// <summary>
/// Heartbeat retention: heartbeat events older than the retention age are archived — flagged with
/// Marten's <c>is_archived</c>, which every default event query leaves out — so live reads of the
/// event store do not wade through months of heartbeats. Nothing is deleted: archived heartbeats stay
/// queryable on request (<c>includeArchived=true</c>) and are in every backup.
/// <para>
/// Individual events, not streams: a peer's heartbeat stream also holds its recent heartbeats, and
/// Marten's archived-stream partitioning ties an archived event to an archived stream (its foreign key
/// includes <c>is_archived</c>), so it does not fit per-event retention. Age is the event's own
/// <c>at</c> (the server's injected clock when it was received).
/// </para>
/// <para>
/// Both archiving and purging work in bounded batches (<see cref="BatchSize"/> rows, each batch its own
/// short transaction, walking the events in sequence order), so a backlog of millions never becomes one
/// huge transaction holding row locks and bloating the WAL. One instance at a time: a session advisory
/// lock held for the whole run.
/// </para>
/// <para>
/// <see cref="PurgeAsync"/> deletes archived heartbeats for good. Only events that are heartbeats, archived,
/// and received before the given time are deleted; streams are left alone, so a heartbeat stream keeps its
/// version (<c>mt_streams.version</c>) and the next heartbeat continues after it. The purged events leave
/// gaps in their stream's versions and in the global sequence, both below anything live: Marten appends
/// by the stream's recorded version and the async daemon only looks for gaps near its high-water mark, so
/// neither notices. A purged heartbeat is gone from history queries, exports and later backups.
/// </para>
/// </summary>
public sealed class HeartbeatArchiver(string connectionString, int batchSize = HeartbeatArchiver.DefaultBatchSize)
{
    public const int DefaultBatchSize = 10_000;
    public int BatchSize { get; } = batchSize > 0 ? batchSize : throw new ArgumentOutOfRangeException(nameof(batchSize));

    /// <summary>How many batches the last run of this instance took (for the operator's output and tests).</summary>
    public int LastRunBatches { get; private set; }

    /// <summary>Advisory lock key ("wirety-hb-retention"): several instances may share the database, one archives at a time.</summary>
    public const long LockKey = 0x7769_7265_7479_6862;

    public const int DefaultRetentionDays = 30;

    /// <summary>Archives the heartbeats received before <paramref name="cutoff"/>, batch by batch. Null when another instance holds the lock.</summary>
    public async Task<long?> ArchiveAsync(DateTimeOffset cutoff, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        if (!await TryLockAsync(conn, ct)) return null;
        try
        {
            var archived = await InBatchesAsync(conn, cutoff,
                $"""
                 with batch as (
                     select seq_id from {WiretyStore.Schema}.mt_events
                     where seq_id > @after and type = @type and is_archived = false and (data ->> 'at')::timestamptz < @cutoff
                     order by seq_id limit @limit)
                 update {WiretyStore.Schema}.mt_events e set is_archived = true from batch where e.seq_id = batch.seq_id
                 returning e.seq_id
                 """, ct);
            if (archived > 0 || await AnyArchivedAsync(conn, ct)) await EnsureLiveIndexAsync(conn, ct); // a restored store may hold archived events already
            return archived;
        }
        finally
        {
            await UnlockAsync(conn);
        }
    }

    /// <summary>
    /// Deletes archived heartbeats received before <paramref name="cutoff"/> for good, batch by batch
    /// (nothing unarchived, nothing but heartbeats). Null when another instance holds the lock.
    /// </summary>
    public async Task<long?> PurgeAsync(DateTimeOffset cutoff, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        if (!await TryLockAsync(conn, ct)) return null;
        try
        {
            return await InBatchesAsync(conn, cutoff,
                $"""
                 with batch as (
                     select seq_id from {WiretyStore.Schema}.mt_events
                     where seq_id > @after and type = @type and is_archived = true and (data ->> 'at')::timestamptz < @cutoff
                     order by seq_id limit @limit)
                 delete from {WiretyStore.Schema}.mt_events e using batch where e.seq_id = batch.seq_id
                 returning e.seq_id
                 """, ct);
        }
        finally
        {
            await UnlockAsync(conn);
        }
    }

    /// <summary>Archived heartbeats received before <paramref name="cutoff"/>: what <see cref="PurgeAsync"/> would delete.</summary>
    public async Task<long> CountPurgeableAsync(DateTimeOffset cutoff, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand(
            $"select count(*) from {WiretyStore.Schema}.mt_events where type = @type and is_archived = true and (data ->> 'at')::timestamptz < @cutoff", conn);
        cmd.Parameters.AddWithValue("type", HeartbeatEventType);
        cmd.Parameters.AddWithValue("cutoff", cutoff.UtcDateTime);
        cmd.CommandTimeout = 0;
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// Runs a batch statement (parameters @after, @type, @cutoff, @limit; returns the seq_ids it touched)
    /// until a batch comes back short. Each batch commits on its own; the walk resumes after the highest
    /// sequence touched, so no batch rescans what an earlier one already passed.
    /// </summary>
    private async Task<long> InBatchesAsync(NpgsqlConnection conn, DateTimeOffset cutoff, string sql, CancellationToken ct)
    {
        long total = 0, after = 0;
        var batches = 0;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            await using var cmd = new NpgsqlCommand(sql, conn);
            cmd.Parameters.AddWithValue("after", after);
            cmd.Parameters.AddWithValue("type", HeartbeatEventType);
            cmd.Parameters.AddWithValue("cutoff", cutoff.UtcDateTime);
            cmd.Parameters.AddWithValue("limit", BatchSize);
            cmd.CommandTimeout = 0; // a batch over a large, unindexed table may take a while
            var rows = 0;
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
                while (await reader.ReadAsync(ct))
                {
                    rows++;
                    after = Math.Max(after, reader.GetInt64(0));
                }
            if (rows > 0) batches++;
            total += rows;
            if (rows < BatchSize) break;
        }
        LastRunBatches = batches;
        return total;
    }

    private static async Task<bool> TryLockAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("select pg_try_advisory_lock(@key)", conn);
        cmd.Parameters.AddWithValue("key", LockKey);
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private static async Task UnlockAsync(NpgsqlConnection conn)
    {
        if (conn.State != System.Data.ConnectionState.Open) return; // a broken connection released its locks with it
        try
        {
            await using var cmd = new NpgsqlCommand("select pg_advisory_unlock(@key)", conn);
            cmd.Parameters.AddWithValue("key", LockKey);
            await cmd.ExecuteScalarAsync(CancellationToken.None);
        }
        catch (NpgsqlException) { /* closing the connection releases it anyway */ }
    }

    /// <summary>
    /// Archived rows stay in the events table, so a live read in sequence order would step over them;
    /// a partial index over the unarchived events lets it skip them. Built without blocking writers,
    /// once there is anything archived; Marten is told to leave it alone (<see cref="WiretyStore.LiveEventsIndex"/>).
    /// </summary>
    private static async Task<bool> AnyArchivedAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"select exists (select 1 from {WiretyStore.Schema}.mt_events where is_archived)", conn);
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private static async Task EnsureLiveIndexAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(
            $"create index concurrently if not exists {WiretyStore.LiveEventsIndex} on {WiretyStore.Schema}.mt_events (seq_id) where not is_archived", conn);
        cmd.CommandTimeout = 0;
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Marten's stored type name for <see cref="HeartbeatReceived"/> (snake case of the class name).</summary>
    public static readonly string HeartbeatEventType = JasperFx.Events.EventTypeExtensions.GetEventTypeName(typeof(HeartbeatReceived));
}

/// <summary>WIRETY_HEARTBEAT_RETENTION_DAYS (default 30; 0 turns archiving off).</summary>
public sealed record HeartbeatRetentionOptions(int RetentionDays, TimeSpan Interval)
{
    public const string Variable = "WIRETY_HEARTBEAT_RETENTION_DAYS";

    public TimeSpan Retention => TimeSpan.FromDays(RetentionDays);

    public static HeartbeatRetentionOptions From(IConfiguration config)
    {
        var raw = config[Variable];
        var days = HeartbeatArchiver.DefaultRetentionDays;
        if (!string.IsNullOrWhiteSpace(raw) && (!int.TryParse(raw, out days) || days < 0 || days > 36_500))
            throw new InvalidOperationException($"{Variable}={raw} is not a number of days between 0 (archiving off) and 36500.");
        return new HeartbeatRetentionOptions(days, TimeSpan.FromHours(1));
    }
}

/// <summary>Runs the archiver 10 minutes after start and then every hour, on whichever instance gets the lock first.</summary>
public sealed class HeartbeatRetentionService(HeartbeatRetentionOptions options, Hosting.WiretySettings settings, TimeProvider clock,
    ILogger<HeartbeatRetentionService> log) : BackgroundService
{
    private readonly HeartbeatArchiver _archiver = new(settings.ConnectionString);

    public static readonly TimeSpan FirstPassDelay = TimeSpan.FromMinutes(10);

    /// <summary>One pass: archive what is older than the retention age by the server's clock.</summary>
    public Task<long?> RunOnceAsync(CancellationToken ct) => _archiver.ArchiveAsync(clock.GetUtcNow() - options.Retention, ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.RetentionDays == 0) return;
        try
        {
            // Not during start-up (schema work, agents reconnecting); the first pass may take a while on a backlog.
            await Task.Delay(FirstPassDelay, clock, stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    if (await RunOnceAsync(stoppingToken) is > 0 and var archived)
                        log.LogInformation("Archived {Count} heartbeat events older than {Days} days", archived, options.RetentionDays);
                }
                catch (Exception e) when (e is NpgsqlException or TimeoutException)
                {
                    log.LogWarning(e, "Heartbeat archiving failed; retrying in {Interval}", options.Interval);
                }
                await Task.Delay(options.Interval, clock, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }
}

public static class HeartbeatRetentionSetup
{
    public static IServiceCollection AddHeartbeatRetention(this IServiceCollection services, IConfiguration config)
    {
        services.AddSingleton(HeartbeatRetentionOptions.From(config));
        services.AddSingleton<HeartbeatRetentionService>();
        services.AddHostedService(sp => sp.GetRequiredService<HeartbeatRetentionService>());
        return services;
    }
}
