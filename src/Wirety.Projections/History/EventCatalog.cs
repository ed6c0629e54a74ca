using System.Text.Json.Nodes;
using Wirety.Events.Incidents;
using Wirety.Events.Networks;
using Wirety.Events.Peers;
using Wirety.Events.Segmentation;
using Wirety.Events.Tokens;
using Wirety.Events.Users;

namespace Wirety.Projections.History;

/// <summary>
/// Every event type of the public contract, by its CLR record name (the name the API shows and filters
/// on), and the rules for showing an event's data outside the server.
/// </summary>
public static class EventCatalog
{
    public static readonly IReadOnlyList<Type> Types =
    [
        typeof(NetworkCreated), typeof(NetworkUpdated), typeof(NetworkDeleted), typeof(NetworkSecurityChanged),
        typeof(PeerAdded), typeof(PeerUpdated), typeof(PeerRemoved), typeof(EnrollmentTokenIssued), typeof(PeerBlocked),
        typeof(PeerUnblocked), typeof(PeerEnrolled), typeof(EndpointChanged), typeof(EnrollmentRejected), typeof(HeartbeatReceived),
        typeof(IncidentDetected), typeof(IncidentResolved),
        typeof(DefaultPolicyChanged), typeof(GroupCreated), typeof(GroupUpdated), typeof(GroupMembersSet), typeof(GroupDeleted),
        typeof(PolicyCreated), typeof(PolicyUpdated), typeof(PolicyDeleted), typeof(RouteAdded), typeof(RouteRemoved),
        typeof(ApiTokenIssued), typeof(ApiTokenRevoked),
        typeof(DnsEndpointsAllowanceChanged), typeof(PeerKeyRotated), typeof(KeyRotationIntervalChanged),
        typeof(UserSignedIn), typeof(UserRoleGranted), typeof(UserRoleRevoked), typeof(UserDisabled), typeof(UserEnabled),
    ];

    private static readonly Dictionary<string, Type> ByName = Types.ToDictionary(t => t.Name, StringComparer.Ordinal);

    public static Type? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>
    /// Removes every field whose name ends in "hash" (<c>tokenHash</c>, <c>sessionTokenHash</c>, ...), at any
    /// depth. A hash of a bearer secret is not the secret, but it is what the server matches against: it has
    /// no business in an audit export.
    /// </summary>
    public static JsonNode? Redact(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var name in obj.Select(p => p.Key).Where(IsHashField).ToList()) obj.Remove(name);
                foreach (var (_, value) in obj) Redact(value);
                break;
            case JsonArray array:
                foreach (var item in array) Redact(item);
                break;
        }
        return node;
    }

    public static bool IsHashField(string name) => name.EndsWith("hash", StringComparison.OrdinalIgnoreCase);
}
