namespace Wirety.Server.Auth.Sessions;

/// <summary>
/// UI session lifetimes, bound from configuration <c>Wirety:Sessions:*</c> (environment
/// <c>Wirety__Sessions__Lifetime</c>, <c>Wirety__Sessions__IdleTimeout</c>, as <c>hh:mm:ss</c>).
/// </summary>
public sealed class SessionOptions
{
    public const string Section = "Wirety:Sessions";

    /// <summary>Absolute lifetime from sign-in; the session ends then whatever its use.</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>A session not used for this long ends (sliding; the last use is recorded at most once a minute).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often the last use is written at most (a request within it writes nothing).</summary>
    public static readonly TimeSpan TouchInterval = TimeSpan.FromMinutes(1);

    /// <summary>How often expired session rows are deleted (also once at start).</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromHours(1);
}
