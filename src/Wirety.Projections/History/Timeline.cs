using Wirety.Events;
using Wirety.Events.Incidents;
using Wirety.Events.Networks;
using Wirety.Events.Peers;
using Wirety.Events.Users;
using Wirety.Projections.Networks;

namespace Wirety.Projections.History;

/// <summary>What a timeline entry is about.</summary>
public sealed record TimelineSubject(string Kind, Guid Id, string Name);

/// <summary>One human-readable line of a network's history.</summary>
public sealed record TimelineEntry(long Sequence, DateTimeOffset Timestamp, string Type, Actor? Actor, string Summary, TimelineSubject Subject);

/// <summary>
/// Turns a network's events into sentences ("admin blocked peer laptop: lost device"), naming peers as
/// they were called at the time. Pure: the caller passes the network's events (its stream, its incidents,
/// refused enrollments) and gets one entry per event, in sequence order.
/// </summary>
public static class Timeline
{
    public static IReadOnlyList<TimelineEntry> Build(IEnumerable<RecordedEvent> events)
    {
        Network? network = null;
        var names = new Dictionary<Guid, string>();
        string? networkName = null;
        var entries = new List<TimelineEntry>();
        foreach (var e in events.OrderBy(e => e.Sequence))
        {
            string Name(Guid id) => names.TryGetValue(id, out var n) ? n : id.ToString();
            var entry = (network is null ? null : SegmentationSentences.Describe(e.Data, network)) ?? Describe(e.Data, networkName ?? "", Name);
            if (entry is { } d)
                entries.Add(new TimelineEntry(e.Sequence, e.At, e.Data.GetType().Name, ActorOf(e.Data), d.Summary, d.Subject));

            if (e.Data is UserSignedIn signedIn) names[signedIn.UserId] = signedIn.Name;
            if (NetworkEvolution.Handles(e.Data))
            {
                network = NetworkEvolution.Evolve(network, e.Data);
                if (network is not null)
                {
                    networkName = network.Name;
                    foreach (var p in network.Peers) names[p.Id] = p.Name;
                }
            }
        }
        return entries;
    }

    public static Actor? ActorOf(object data) => data.GetType().GetProperty(nameof(Actor))?.GetValue(data) as Actor;

    /// <summary>How the actor is named in a sentence.</summary>
    public static string Who(Actor? actor) => actor switch
    {
        null => "Wirety",
        { Name: "wirety:detection" } => "detection",
        { TokenId: var id, Name: "system" } when id == Guid.Empty => "Wirety",
        _ => actor.Name,
    };

    private static (string Summary, TimelineSubject Subject)? Describe(object data, string networkName, Func<Guid, string> peer)
    {
        TimelineSubject Net(Guid id, string? name = null) => new("network", id, name ?? networkName);
        TimelineSubject Peer(Guid id) => new("peer", id, peer(id));
        var who = Who(ActorOf(data));
        return data switch
        {
            NetworkCreated e => ($"{who} created network {e.Name} ({e.Cidr})", Net(e.NetworkId, e.Name)),
            NetworkUpdated e => ($"{who} updated network {e.Name}", Net(e.NetworkId, e.Name)),
            NetworkDeleted e => ($"{who} deleted network {networkName}" + (e.Forced ? " and its peers" : ""), Net(e.NetworkId)),
            NetworkSecurityChanged e => (e.Enabled
                ? $"{who} changed the incident detection settings of network {networkName}"
                : $"{who} turned incident detection off for network {networkName}", Net(e.NetworkId)),
            DnsEndpointsAllowanceChanged e => (e.Allowed
                ? $"{who} allowed DNS names as peer endpoints in network {networkName}"
                : $"{who} stopped allowing DNS names as peer endpoints in network {networkName}; endpoints must be IP addresses", Net(e.NetworkId)),
            KeyRotationIntervalChanged e => (e.IntervalDays is { } days
                ? $"{who} set agents in network {networkName} to rotate their keys every {days} day" + (days == 1 ? "" : "s")
                : $"{who} turned scheduled key rotation off for network {networkName}", Net(e.NetworkId)),
            PeerAdded e => ($"{who} added {e.Kind.ToString().ToLowerInvariant()} peer {e.Name} at {e.Address}", new("peer", e.PeerId, e.Name)),
            PeerUpdated e => ($"{who} updated peer {e.Name}", new("peer", e.PeerId, e.Name)),
            PeerRemoved e => ($"{who} removed peer {peer(e.PeerId)}", Peer(e.PeerId)),
            EnrollmentTokenIssued e => ($"{who} issued an enrollment token for peer {peer(e.PeerId)}", Peer(e.PeerId)),
            PeerEnrolled e => ($"peer {peer(e.PeerId)} enrolled from host {e.Hostname} ({e.SourceAddress})", Peer(e.PeerId)),
            PeerKeyRotated e => ($"peer {peer(e.PeerId)} rotated its key to {e.PublicKey} (was {e.PreviousPublicKey})", Peer(e.PeerId)),
            EndpointChanged e => (e.Endpoint is null
                ? $"peer {peer(e.PeerId)}'s endpoint is no longer known"
                : $"peer {peer(e.PeerId)}'s endpoint changed to {e.Endpoint}", Peer(e.PeerId)),
            PeerBlocked e => ($"{who} blocked peer {peer(e.PeerId)}: {e.Reason}", Peer(e.PeerId)),
            PeerUnblocked e => ($"{who} unblocked peer {peer(e.PeerId)}" + (string.IsNullOrWhiteSpace(e.Reason) ? "" : $": {e.Reason}"), Peer(e.PeerId)),
            IncidentDetected e => ($"detection opened a {Describe(e.Type)} incident on peer {peer(e.PeerId)}: {e.Summary}",
                new("incident", e.IncidentId, $"{Describe(e.Type)} on {peer(e.PeerId)}")),
            IncidentResolved e => ($"{who} resolved the incident on peer {peer(e.PeerId)}" + (e.Unblocked ? " and unblocked it" : "") + $": {e.Note}",
                new("incident", e.IncidentId, $"incident on {peer(e.PeerId)}")),
            EnrollmentRejected e => ($"an enrollment" + (e.PeerId is { } p ? $" for peer {peer(p)}" : "") + $" from {e.SourceAddress} was refused: {e.Reason}",
                e.PeerId is { } id ? Peer(id) : Net(e.NetworkId ?? Guid.Empty)),
            _ => DescribeUser(data, who, peer),
        };
    }

    /// <summary>The sentences for people's sign-ins and grants (<paramref name="name"/> names a user by id).</summary>
    public static (string Summary, TimelineSubject Subject)? DescribeUser(object data, string who, Func<Guid, string> name)
    {
        TimelineSubject User(Guid id) => new("user", id, name(id));
        return data switch
        {
            UserSignedIn e => ($"{e.Name} signed in" + (e.Via == SignInVia.Jwt ? " with an identity-provider token" : ""),
                new("user", e.UserId, e.Name)),
            UserRoleGranted e => ((e.Source == GrantSource.RoleMap ? $"the role map of the identity provider made {name(e.UserId)} " : $"{who} made {name(e.UserId)} ")
                + e.Role.ToString().ToLowerInvariant()
                + (e.NetworkIds is { Count: > 0 } n ? $" of {n.Count} network{(n.Count == 1 ? "" : "s")}" : " of every network"), User(e.UserId)),
            UserRoleRevoked e => ((e.Source == GrantSource.RoleMap ? "the role map of the identity provider" : who) + $" took {name(e.UserId)}'s role away",
                User(e.UserId)),
            UserDisabled e => ($"{who} disabled user {name(e.UserId)}", User(e.UserId)),
            UserEnabled e => ($"{who} enabled user {name(e.UserId)} again", User(e.UserId)),
            _ => null,
        };
    }

    private static string Describe(IncidentType type) => type switch
    {
        IncidentType.SessionConflict => "session conflict",
        IncidentType.SharedConfig => "shared config",
        IncidentType.SuspiciousActivity => "suspicious activity",
        _ => type.ToString(),
    };
}
