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
/// </summary>
public sealed class HeartbeatArchiver(string connectionString)
{
    /// <summary>Advisory lock key ("wirety-hb-retention"): several instances may share the database, one archives at a time.</summary>
    public const long LockKey = 0x7769_7265_7479_6862;

    public const int DefaultRetentionDays = 30;

    /// <summary>Archives the heartbeats received before <paramref name="cutoff"/> in one transaction. Null when another instance holds the lock.</summary>
    public async Task<long?> ArchiveAsync(DateTimeOffset cutoff, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var lockCmd = new NpgsqlCommand("select pg_try_advisory_xact_lock(@key)", conn, tx))
        {
            lockCmd.Parameters.AddWithValue("key", LockKey);
            if (!(bool)(await lockCmd.ExecuteScalarAsync(ct))!) return null;
        }

        await using var cmd = new NpgsqlCommand(
            $"""
             update {WiretyStore.Schema}.mt_events set is_archived = true
             where type = @type and is_archived = false and (data ->> 'at')::timestamptz < @cutoff
             """, conn, tx);
        cmd.Parameters.AddWithValue("type", HeartbeatEventType);
        cmd.Parameters.AddWithValue("cutoff", cutoff.UtcDateTime);
        cmd.CommandTimeout = 0; // a first run over a large backlog may take a while
        var archived = await cmd.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        if (archived > 0 || await AnyArchivedAsync(conn, ct)) await EnsureLiveIndexAsync(conn, ct); // a restored store may hold archived events already
        return archived;
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
