using Wirety.Events.Agent;
using Wirety.Projections.Incidents;
using Wirety.Projections.Networks;
using Wirety.Server.EventQueries;
using Wirety.Server.Groups;
using Wirety.Server.History;
using Wirety.Server.LiveChannel;
using Wirety.Server.Networks;
using Wirety.Server.Peers;
using Wirety.Server.Policies;
using Wirety.Server.Reachability;
using Wirety.Server.Routes;
using Wirety.Server.Tokens;
using Wirety.Server.Users;

namespace Wirety.Server.ApiDescription;

/// <summary>
/// The success response of the endpoints that answer an untyped <see cref="IResult"/> (so that they can also answer
/// problems): ApiExplorer cannot see through it, so the document takes the status and body type from here. A test
/// fails when an operation's success response is still described as <c>IResult</c>, so a new endpoint is listed here.
/// </summary>
public static class ApiResponses
{
    public sealed record Success(int Status, Type? Body, string ContentType = "application/json");

    private static Success Ok<T>() => new(200, typeof(T));
    private static Success Created<T>() => new(201, typeof(T));
    private static readonly Success NoContent = new(204, null), Text = new(200, typeof(string), "text/plain");

    public static readonly IReadOnlyDictionary<string, Success> ByOperation = new Dictionary<string, Success>(StringComparer.Ordinal)
    {
        ["POST /api/v1/agent/enroll"] = Ok<EnrollResponse>(),
        ["POST /api/v1/agent/heartbeat"] = NoContent,
        ["GET /api/v1/agent/config"] = Ok<AgentConfig>(),
        ["POST /api/v1/agent/rotate-key"] = Ok<RotateKeyResponse>(),
        ["GET /api/v1/events"] = Ok<EventPage>(),
        ["POST /api/v1/tokens"] = Created<IssuedApiToken>(),
        ["DELETE /api/v1/tokens/{tokenId}"] = NoContent,
        ["POST /api/v1/auth/session"] = NoContent,
        ["POST /api/v1/auth/signout"] = NoContent,
        ["GET /api/v1/incidents"] = Ok<List<Incident>>(),
        ["GET /api/v1/incidents/{incidentId}"] = Ok<Incident>(),
        ["POST /api/v1/incidents/{incidentId}/resolve"] = Ok<Incident>(),
        ["POST /api/v1/networks"] = Created<NetworkView>(),
        ["GET /api/v1/networks"] = Ok<List<NetworkView>>(),
        ["GET /api/v1/networks/{networkId}"] = Ok<NetworkView>(),
        ["PATCH /api/v1/networks/{networkId}"] = Ok<NetworkView>(),
        ["DELETE /api/v1/networks/{networkId}"] = NoContent,
        ["GET /api/v1/networks/{networkId}/ipam"] = Ok<IpamView>(),
        ["GET /api/v1/networks/{networkId}/events"] = Ok<List<NetworkEventView>>(),
        ["GET /api/v1/networks/{networkId}/state"] = Ok<NetworkStateView>(),
        ["GET /api/v1/networks/{networkId}/timeline"] = Ok<TimelinePage>(),
        ["GET /api/v1/networks/{networkId}/presence"] = Ok<List<PeerPresenceView>>(),
        ["GET /api/v1/networks/{networkId}/security"] = Ok<NetworkSecurity>(),
        ["PUT /api/v1/networks/{networkId}/security"] = Ok<NetworkSecurity>(),
        ["PUT /api/v1/networks/{networkId}/key-rotation"] = Ok<KeyRotationSetting>(),
        ["GET /api/v1/networks/{networkId}/reachability"] = Ok<ReachabilityView>(),
        ["POST /api/v1/networks/{networkId}/peers"] = Created<PeerView>(),
        ["GET /api/v1/networks/{networkId}/peers"] = Ok<List<PeerView>>(),
        ["GET /api/v1/networks/{networkId}/peers/{peerId}"] = Ok<PeerView>(),
        ["PATCH /api/v1/networks/{networkId}/peers/{peerId}"] = Ok<PeerView>(),
        ["DELETE /api/v1/networks/{networkId}/peers/{peerId}"] = NoContent,
        ["POST /api/v1/networks/{networkId}/peers/{peerId}/block"] = Ok<PeerView>(),
        ["POST /api/v1/networks/{networkId}/peers/{peerId}/unblock"] = Ok<PeerView>(),
        ["POST /api/v1/networks/{networkId}/peers/{peerId}/enrollment-token"] = Ok<IssuedEnrollmentToken>(),
        ["POST /api/v1/networks/{networkId}/peers:bulk"] = Created<PeersView>(),
        ["POST /api/v1/networks/{networkId}/peers:block"] = Ok<PeersView>(),
        ["POST /api/v1/networks/{networkId}/peers:unblock"] = Ok<PeersView>(),
        ["POST /api/v1/networks/{networkId}/peers:delete"] = Ok<PeersRemoved>(),
        ["GET /api/v1/networks/{networkId}/peers/{peerId}/config"] = Text,
        ["GET /api/v1/networks/{networkId}/peers/{peerId}/config/diff"] = Text,
        ["POST /api/v1/networks/{networkId}/groups"] = Created<GroupView>(),
        ["GET /api/v1/networks/{networkId}/groups"] = Ok<List<GroupView>>(),
        ["GET /api/v1/networks/{networkId}/groups/{groupId}"] = Ok<GroupView>(),
        ["PATCH /api/v1/networks/{networkId}/groups/{groupId}"] = Ok<GroupView>(),
        ["DELETE /api/v1/networks/{networkId}/groups/{groupId}"] = NoContent,
        ["PUT /api/v1/networks/{networkId}/groups/{groupId}/members"] = Ok<GroupView>(),
        ["POST /api/v1/networks/{networkId}/policies"] = Created<PolicyView>(),
        ["GET /api/v1/networks/{networkId}/policies"] = Ok<List<PolicyView>>(),
        ["GET /api/v1/networks/{networkId}/policies/{policyId}"] = Ok<PolicyView>(),
        ["PATCH /api/v1/networks/{networkId}/policies/{policyId}"] = Ok<PolicyView>(),
        ["DELETE /api/v1/networks/{networkId}/policies/{policyId}"] = NoContent,
        ["POST /api/v1/networks/{networkId}/policies/preview"] = Ok<PolicyPreviewView>(),
        ["POST /api/v1/networks/{networkId}/routes"] = Created<RouteView>(),
        ["GET /api/v1/networks/{networkId}/routes"] = Ok<List<RouteView>>(),
        ["GET /api/v1/networks/{networkId}/routes/{routeId}"] = Ok<RouteView>(),
        ["DELETE /api/v1/networks/{networkId}/routes/{routeId}"] = NoContent,
        // Users and single sign-on (Users/, Auth/Oidc/).
        ["GET /api/v1/users"] = Ok<List<UserView>>(),
        ["GET /api/v1/users/{userId}"] = Ok<UserView>(),
        ["PATCH /api/v1/users/{userId}"] = Ok<UserView>(),
        ["GET /api/v1/auth/oidc/login"] = new(302, null),
    };
}
