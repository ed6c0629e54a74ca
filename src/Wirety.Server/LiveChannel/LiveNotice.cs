using System.Text.Json;
using System.Text.Json.Serialization;
using JasperFx.Events;
using Wirety.Events.Incidents;
using Wirety.Events.Networks;
using Wirety.Events.Peers;
using Wirety.Events.Segmentation;

namespace Wirety.Server.LiveChannel;

/// <summary>
/// One message of the admin live channel (<c>GET /api/v1/ws</c>). A notice says what changed, not the
/// new state: the client refetches what it shows. Absent fields are left out of the JSON.
/// This is a public contract: types and fields are only ever added to.
/// </summary>
public sealed record LiveNotice(string Type)
{
    /// <summary>First message on every socket: from here on no change is missed (fetch state after it).</summary>
    public const string Ready = "ready";
    /// <summary>The network's event stream now stands at <see cref="Version"/> (one per network per commit).</summary>
    public const string NetworkChanged = "network-changed";
    public const string PeerChanged = "peer-changed";
    public const string IncidentDetected = "incident-detected";
    public const string IncidentResolved = "incident-resolved";
    public const string PeerOnline = "peer-online";
    public const string PeerOffline = "peer-offline";

    public Guid? IncidentId { get; init; }
    public Guid? NetworkId { get; init; }
    public long? Version { get; init; }
    public Guid? PeerId { get; init; }
    /// <summary>For peer-changed: one of <see cref="PeerChange"/>.</summary>
    public string? Change { get; init; }
    /// <summary>For incident-detected: the <see cref="Events.Incidents.IncidentType"/> in camelCase (<c>sessionConflict</c>).</summary>
    public string? IncidentType { get; init; }

    public byte[] ToUtf8Json() => JsonSerializer.SerializeToUtf8Bytes(this, LiveNoticeJson.Default.LiveNotice);

    public static LiveNotice Network(Guid networkId, long version) => new(NetworkChanged) { NetworkId = networkId, Version = version };

    public static LiveNotice Peer(Guid networkId, Guid peerId, string change) =>
        new(PeerChanged) { NetworkId = networkId, PeerId = peerId, Change = change };

    public static LiveNotice Presence(Guid networkId, Guid peerId, bool online) =>
        new(online ? PeerOnline : PeerOffline) { NetworkId = networkId, PeerId = peerId };
}

/// <summary>The live channel's JSON, generated at build time: absent fields are left out.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(LiveNotice))]
public sealed partial class LiveNoticeJson : JsonSerializerContext;

/// <summary>The <c>change</c> values of a peer-changed notice.</summary>
public static class PeerChange
{
    public const string Added = "added", Updated = "updated", Removed = "removed", Enrolled = "enrolled",
        Blocked = "blocked", Unblocked = "unblocked", Endpoint = "endpoint", KeyRotated = "key-rotated";
}

/// <summary>
/// Committed events → live notices. Pure: the same events always give the same notices.
/// Events without an admin-visible effect (heartbeats, rejected enrollments, API tokens) give none.
/// </summary>
public static class LiveNotices
{
    private static readonly IReadOnlyList<LiveNotice> None = [];

    /// <summary>
    /// The notices for one committed event. An event on its network's own stream (stream id = network id)
    /// also yields network-changed at the event's version.
    /// </summary>
    public static IReadOnlyList<LiveNotice> From(IEvent e)
    {
        var (networkId, specific) = Map(e.Data);
        if (networkId is not { } id) return None;
        var onNetworkStream = e.StreamId == id;
        return (specific, onNetworkStream) switch
        {
            (null, false) => None,
            (null, true) => [LiveNotice.Network(id, e.Version)],
            (_, false) => [specific],
            _ => [specific, LiveNotice.Network(id, e.Version)],
        };
    }

    /// <summary>
    /// The notices for one commit, in event order, except that network-changed comes once per network,
    /// after that commit's other notices, at the highest version the commit reached.
    /// </summary>
    public static IReadOnlyList<LiveNotice> FromCommit(IEnumerable<IEvent> events)
    {
        List<LiveNotice>? notices = null;
        Dictionary<Guid, long>? versions = null;
        foreach (var e in events)
            foreach (var notice in From(e))
                if (notice is { Type: LiveNotice.NetworkChanged, NetworkId: { } id, Version: { } version })
                {
                    versions ??= [];
                    versions[id] = Math.Max(version, versions.GetValueOrDefault(id));
                }
                else (notices ??= []).Add(notice);

        if (versions is null) return notices ?? None;
        notices ??= [];
        notices.AddRange(versions.Select(v => LiveNotice.Network(v.Key, v.Value)));
        return notices;
    }

    /// <returns>The network the event concerns (null: not an admin-visible event) and its specific notice, if any.</returns>
    private static (Guid? NetworkId, LiveNotice? Specific) Map(object data) => data switch
    {
        NetworkCreated e => (e.NetworkId, null),
        NetworkUpdated e => (e.NetworkId, null),
        NetworkDeleted e => (e.NetworkId, null),
        NetworkSecurityChanged e => (e.NetworkId, null),
        DnsEndpointsAllowanceChanged e => (e.NetworkId, null),
        KeyRotationIntervalChanged e => (e.NetworkId, null),
        // A new token voids the previous one; the peer's visible state is unchanged, the stream version moved.
        EnrollmentTokenIssued e => (e.NetworkId, null),
        PeerAdded e => (e.NetworkId, LiveNotice.Peer(e.NetworkId, e.PeerId, PeerChange.Added)),
        PeerUpdated e => (e.NetworkId, LiveNotice.Peer(e.NetworkId, e.PeerId, PeerChange.Updated)),
        PeerRemoved e => (e.NetworkId, LiveNotice.Peer(e.NetworkId, e.PeerId, PeerChange.Removed)),
        PeerEnrolled e => (e.NetworkId, LiveNotice.Peer(e.NetworkId, e.PeerId, PeerChange.Enrolled)),
        PeerBlocked e => (e.NetworkId, LiveNotice.Peer(e.NetworkId, e.PeerId, PeerChange.Blocked)),
        PeerUnblocked e => (e.NetworkId, LiveNotice.Peer(e.NetworkId, e.PeerId, PeerChange.Unblocked)),
        EndpointChanged e => (e.NetworkId, LiveNotice.Peer(e.NetworkId, e.PeerId, PeerChange.Endpoint)),
        PeerKeyRotated e => (e.NetworkId, LiveNotice.Peer(e.NetworkId, e.PeerId, PeerChange.KeyRotated)),
        IncidentDetected e => (e.NetworkId, new LiveNotice(LiveNotice.IncidentDetected)
        {
            IncidentId = e.IncidentId, NetworkId = e.NetworkId, PeerId = e.PeerId,
            IncidentType = JsonNamingPolicy.CamelCase.ConvertName(e.Type.ToString()),
        }),
        IncidentResolved e => (e.NetworkId, new LiveNotice(LiveNotice.IncidentResolved)
        {
            IncidentId = e.IncidentId, NetworkId = e.NetworkId, PeerId = e.PeerId,
        }),
        // Segmentation: the network's version moved; the UI re-reads groups, policies and routes.
        DefaultPolicyChanged e => (e.NetworkId, null),
        GroupCreated e => (e.NetworkId, null),
        GroupUpdated e => (e.NetworkId, null),
        GroupMembersSet e => (e.NetworkId, null),
        GroupDeleted e => (e.NetworkId, null),
        PolicyCreated e => (e.NetworkId, null),
        PolicyUpdated e => (e.NetworkId, null),
        PolicyDeleted e => (e.NetworkId, null),
        RouteAdded e => (e.NetworkId, null),
        RouteRemoved e => (e.NetworkId, null),
        // HeartbeatReceived (presence has its own path), EnrollmentRejected, ApiTokenIssued/Revoked.
        _ => (null, null),
    };
}
