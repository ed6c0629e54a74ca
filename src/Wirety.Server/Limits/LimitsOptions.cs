namespace Wirety.Server.Limits;

/// <summary>
/// Bounds on what one client can make the server do, bound from configuration <c>Wirety:Limits:*</c>
/// (environment: <c>Wirety__Limits__*</c>). Documented in README (Configuration).
/// </summary>
public sealed class LimitsOptions
{
    public const string Section = "Wirety:Limits";

    /// <summary>Largest request body on <c>/api/v1/agent/*</c> other than the heartbeat.</summary>
    public long AgentBodyBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// Largest heartbeat body: a jump peer reports one stat per peer it has, up to 4,096 (~130 bytes each),
    /// so the heartbeat needs more room than the other agent requests.
    /// </summary>
    public long HeartbeatBodyBytes { get; set; } = 640 * 1024;

    /// <summary>Largest request body on the rest of the API.</summary>
    public long AdminBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>The fixed window the request counts below apply to.</summary>
    public TimeSpan RateWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Enrollment attempts per source address per window (anonymous, so keyed by address); also key rotations per agent session.</summary>
    public int EnrollmentsPerWindow { get; set; } = 30;

    /// <summary>Heartbeats per agent session per window (agents send one every 30 s by default).</summary>
    public int HeartbeatsPerWindow { get; set; } = 120;

    /// <summary>Admin API requests per API token per window (unauthenticated ones: per source address).</summary>
    public int AdminRequestsPerWindow { get; set; } = 1200;

    /// <summary>At most one endpoint change per peer per this interval is recorded in the network stream.</summary>
    public TimeSpan EndpointChangeInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Refused enrollments from one source address share one event stream per this period.</summary>
    public TimeSpan RejectionStreamPeriod { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Open WebSockets (<c>/api/v1/agent/ws</c>) per agent session on one instance; one more is refused with a
    /// 429 before the upgrade. An agent needs one; a few more cover a reconnect that overlaps the old socket.
    /// Counted per instance: behind a load balancer, N instances allow up to N times this.
    /// </summary>
    public int SocketsPerAgentSession { get; set; } = 4;

    /// <summary>Open live channels (<c>/api/v1/ws</c>) per API token on one instance (a browser tab each); per instance, as above.</summary>
    public int SocketsPerApiToken { get; set; } = 16;

    /// <summary>The Retry-After of a WebSocket refused for its cap: sockets are long-lived, so not seconds.</summary>
    public TimeSpan SocketRetryAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Kestrel's limit on open TCP connections (all kinds); beyond it new connections are closed at once.</summary>
    public long MaxConnections { get; set; } = 10_000;

    /// <summary>Kestrel's limit on upgraded (WebSocket) connections; beyond it an upgrade gets a 503 problem.</summary>
    public long MaxUpgradedConnections { get; set; } = 10_000;

    /// <summary>How long a client may take to send a request's headers (slow-loris bound).</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long an idle keep-alive HTTP connection is kept open.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(120);
    // Heavy reads (EventQueries, History): exports and replays, bounded so one viewer cannot pin the server.

    /// <summary>NDJSON exports (<c>GET /api/v1/events</c> with <c>Accept: application/x-ndjson</c>) one API token may run at once, per server instance.</summary>
    public int ExportsPerToken { get; set; } = 2;

    /// <summary>PostgreSQL <c>statement_timeout</c> for the event query and export commands; over it: 503 (or a final NDJSON error line).</summary>
    public TimeSpan EventQueryTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Most events one history replay (<c>/state?at=</c>, timeline, config at/diff) may fold; over it: 422.</summary>
    public int ReplayEventLimit { get; set; } = 200_000;

    /// <summary>History replays one API token may run at once, per server instance.</summary>
    public int ReplaysPerToken { get; set; } = 2;
}
