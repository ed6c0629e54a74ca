namespace Wirety.Server.LiveChannel;

/// <summary>Tuning of the admin live channel and peer presence.</summary>
public sealed record LiveChannelOptions
{
    /// <summary>
    /// How long a peer stays online after its last heartbeat (or its agent socket closing): 90 s, the
    /// agent's default 30 s heartbeat interval plus two missed heartbeats. <c>WIRETY_PRESENCE_GRACE_SECONDS</c>
    /// overrides it (agents run with a longer <c>--heartbeat-interval</c> need a longer grace).
    /// </summary>
    public TimeSpan PresenceGrace { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>How often peers are checked for a grace that ran out (peer-offline is at most this late).</summary>
    public TimeSpan PresenceSweepInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often open live channels are checked for an expired API token (a socket closes at most this late).</summary>
    public TimeSpan TokenExpirySweepInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Notices a socket may have waiting; one more and the socket is disconnected as too slow.</summary>
    public int SendQueueCapacity { get; init; } = 256;

    /// <summary>Notices waiting for the fan-out loop; beyond this the oldest are dropped (and a warning logged).</summary>
    public int NoticeQueueCapacity { get; init; } = 4096;

    public static LiveChannelOptions From(IConfiguration config) =>
        config["WIRETY_PRESENCE_GRACE_SECONDS"] is { Length: > 0 } grace
            ? int.TryParse(grace, out var seconds) && seconds > 0
                ? new LiveChannelOptions { PresenceGrace = TimeSpan.FromSeconds(seconds) }
                : throw new InvalidOperationException("WIRETY_PRESENCE_GRACE_SECONDS must be a positive whole number of seconds; refusing to start.")
            : new LiveChannelOptions();
}
