using Wirety.Events.Tokens;

namespace Wirety.Server.Auth;

/// <summary>Who may call an endpoint.</summary>
public enum Access
{
    /// <summary>No credential (health probes, agent enrollment: the one-time token is the credential).</summary>
    Anonymous,
    /// <summary>An agent session credential, never an API token.</summary>
    AgentSession,
    /// <summary>Any API token: viewer, analyst or admin.</summary>
    Viewer,
    /// <summary>Analyst or admin (the event stream, the timeline).</summary>
    Analyst,
    /// <summary>Admin only: every write, configs (they reveal the mesh's keys and topology), token management.</summary>
    Admin,
}

/// <summary>
/// The one table of role decisions: every endpoint the server maps has a row here, keyed by HTTP method
/// and route pattern exactly as mapped (a test enumerates the endpoints and fails on any without a row,
/// so a new endpoint cannot ship without a decision). An API-token endpoint missing from the table is
/// admin-only at run time (fail closed for the read-only roles).
/// </summary>
public static class AccessRules
{
    /// <summary>Method used in the key for endpoints mapped for every method (WebSockets).</summary>
    public const string AnyMethod = "*";

    public static readonly IReadOnlyDictionary<string, Access> Table = new Dictionary<string, Access>(StringComparer.Ordinal)
    {
        ["GET /healthz"] = Access.Anonymous,
        ["GET /readyz"] = Access.Anonymous,

        ["POST /api/v1/agent/enroll"] = Access.Anonymous,
        ["GET /api/v1/agent/config"] = Access.AgentSession,
        ["POST /api/v1/agent/heartbeat"] = Access.AgentSession,
        ["* /api/v1/agent/ws"] = Access.AgentSession,

        ["GET /api/v1/me"] = Access.Viewer,
        ["* /api/v1/ws"] = Access.Viewer,

        ["POST /api/v1/tokens"] = Access.Admin,
        ["GET /api/v1/tokens"] = Access.Admin,
        ["DELETE /api/v1/tokens/{tokenId}"] = Access.Admin,

        ["GET /api/v1/networks"] = Access.Viewer,
        ["POST /api/v1/networks"] = Access.Admin,
        ["GET /api/v1/networks/{networkId}"] = Access.Viewer,
        ["PATCH /api/v1/networks/{networkId}"] = Access.Admin,
        ["DELETE /api/v1/networks/{networkId}"] = Access.Admin,
        ["GET /api/v1/networks/{networkId}/ipam"] = Access.Viewer,
        ["GET /api/v1/networks/{networkId}/presence"] = Access.Viewer,
        ["GET /api/v1/networks/{networkId}/security"] = Access.Viewer,
        ["PUT /api/v1/networks/{networkId}/security"] = Access.Admin,
        ["GET /api/v1/networks/{networkId}/events"] = Access.Analyst,
        ["GET /api/v1/networks/{networkId}/state"] = Access.Viewer,
        ["GET /api/v1/networks/{networkId}/timeline"] = Access.Analyst,

        ["GET /api/v1/networks/{networkId}/peers"] = Access.Viewer,
        ["POST /api/v1/networks/{networkId}/peers"] = Access.Admin,
        ["GET /api/v1/networks/{networkId}/peers/{peerId}"] = Access.Viewer,
        ["PATCH /api/v1/networks/{networkId}/peers/{peerId}"] = Access.Admin,
        ["DELETE /api/v1/networks/{networkId}/peers/{peerId}"] = Access.Admin,
        ["POST /api/v1/networks/{networkId}/peers/{peerId}/block"] = Access.Admin,
        ["POST /api/v1/networks/{networkId}/peers/{peerId}/unblock"] = Access.Admin,
        ["POST /api/v1/networks/{networkId}/peers/{peerId}/enrollment-token"] = Access.Admin,
        ["GET /api/v1/networks/{networkId}/peers/{peerId}/config"] = Access.Admin,
        ["GET /api/v1/networks/{networkId}/peers/{peerId}/config/diff"] = Access.Admin,

        ["GET /api/v1/incidents"] = Access.Viewer,
        ["GET /api/v1/incidents/{incidentId}"] = Access.Viewer,
        ["POST /api/v1/incidents/{incidentId}/resolve"] = Access.Admin,

        ["GET /api/v1/events"] = Access.Analyst,
    };

    public static string Key(string method, string routePattern) => method + " " + routePattern;

    /// <summary>The decision for an API-token endpoint; unknown endpoints are admin-only.</summary>
    public static Access For(string method, string routePattern) =>
        Table.TryGetValue(Key(method, routePattern), out var access) ? access : Access.Admin;

    public static bool Allows(this Access access, ApiTokenRole role) => access switch
    {
        Access.Viewer => true,
        Access.Analyst => role is ApiTokenRole.Analyst or ApiTokenRole.Admin,
        Access.Admin => role is ApiTokenRole.Admin,
        _ => false,
    };

    public static string Describe(this Access access) => access switch
    {
        Access.Analyst => "an analyst or admin token",
        Access.Admin => "an admin token",
        _ => "an API token",
    };
}
