using Wirety.Agent.Server;
using Wirety.Agent.State;
using Wirety.Events.Agent;

namespace Wirety.Agent.Running;

public enum ConfigAction
{
    /// <summary>A new config from the server: reconcile to it and, once applied, save it as last-known-good.</summary>
    Apply,
    /// <summary>Keep the config we have (304, or the server is unreachable/refusing: fail-static) and reconcile drift against it.</summary>
    KeepCurrent,
    /// <summary>The session is revoked: stop.</summary>
    Stop,
}

/// <param name="Config">The config to reconcile to; null when there is none yet (nothing applied, nothing to keep).</param>
/// <param name="Problem">Why the server's answer was not used, for the log; null when it was.</param>
public sealed record ConfigDecision(ConfigAction Action, AgentConfig? Config, string? ETag, string? Problem);

/// <summary>
/// The run loop's decisions as pure functions of what happened, so fail-static and revocation are
/// tested without a server: a 401 stops the agent; anything short of a usable answer keeps the last
/// applied config and the tunnel as they are.
/// </summary>
public static class RunDecisions
{
    /// <summary>Exit code when the session was revoked (documented in the usage text).</summary>
    public const int RevokedExitCode = 3;

    /// <summary>
    /// Why the agent will not talk to <paramref name="server"/>, or null when it will: plain HTTP is
    /// accepted on loopback (a local test server, a TLS-terminating sidecar) and elsewhere only with
    /// <c>--insecure-http</c>, since the session token and the configs would cross the network in clear text.
    /// </summary>
    public static string? PlainHttpRefusal(Uri server, bool insecureHttp)
    {
        ArgumentNullException.ThrowIfNull(server);
        if (server.Scheme != Uri.UriSchemeHttp || server.IsLoopback || insecureHttp) return null;
        return $"refusing plain http:// to {server.Authority}, which is not a loopback address: the session token and configs " +
               "would cross the network unencrypted. Use https://, or pass --insecure-http to accept that";
    }

    /// <summary>What to apply at start, before the server has been asked: the last-known-good config, if any.</summary>
    public static AgentConfig? StartupConfig(SavedConfig? lastKnownGood) => lastKnownGood?.Config;

    /// <summary>What to do with a config fetch, given the config currently applied (or null).</summary>
    public static ConfigDecision OnConfigFetch(ServerOutcome<AgentConfig> outcome, AgentConfig? current, string? currentETag)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        return outcome.Kind switch
        {
            OutcomeKind.Ok when outcome.Value is not null => new ConfigDecision(ConfigAction.Apply, outcome.Value, outcome.ETag, null),
            OutcomeKind.NotModified => new ConfigDecision(ConfigAction.KeepCurrent, current, currentETag, null),
            OutcomeKind.Unauthorized => new ConfigDecision(ConfigAction.Stop, null, null, SessionRevokedException.RevokedText),
            OutcomeKind.Refused => new ConfigDecision(ConfigAction.KeepCurrent, current, currentETag,
                $"the server refused the config request ({(int?)outcome.Status}): {outcome.Detail}; keeping the last applied config"),
            _ => new ConfigDecision(ConfigAction.KeepCurrent, current, currentETag,
                $"{outcome.Detail}; keeping the last applied config" + (current is null ? " (none yet)" : $" (version {current.Version})")),
        };
    }

    /// <summary>Whether a heartbeat's outcome ends the run (only a revoked session does; an outage never does).</summary>
    public static bool HeartbeatStops(OutcomeKind kind) => kind == OutcomeKind.Unauthorized;

    /// <summary>
    /// Whether a push should trigger a fetch. Always, unless it names the version we already run: a
    /// fetch is cheap (ETag/304) and a version we cannot compare is better checked than trusted.
    /// </summary>
    public static bool PushNeedsFetch(string? pushedVersion, AgentConfig? current) =>
        pushedVersion is null || current is null || !string.Equals(pushedVersion, current.Version, StringComparison.Ordinal);
}
