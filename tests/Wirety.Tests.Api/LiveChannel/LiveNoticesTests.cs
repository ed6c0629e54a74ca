using System.Text.Json;
using JasperFx.Events;
using Wirety.Events;
using Wirety.Events.Incidents;
using Wirety.Events.Networks;
using Wirety.Events.Peers;
using Wirety.Events.Segmentation;
using Wirety.Events.Tokens;
using Wirety.Events.Users;
using Wirety.Server.LiveChannel;

namespace Wirety.Tests.Api.LiveChannel;

/// <summary>
/// The pure mapping from committed events to live notices, for every event type in Wirety.Events.
/// (Here rather than in Wirety.Tests.Unit because the mapping lives in the server; no database is used.)
/// </summary>
public sealed class LiveNoticesTests
{
    private static readonly Guid Net = new("11111111-1111-1111-1111-111111111111");
    private static readonly Guid Peer = new("22222222-2222-2222-2222-222222222222");
    private static readonly Guid Incident = new("33333333-3333-3333-3333-333333333333");
    private static readonly Guid Session = new("44444444-4444-4444-4444-444444444444");
    private static readonly Guid Token = new("55555555-5555-5555-5555-555555555555");
    private static readonly Guid Group = new("66666666-6666-6666-6666-666666666666");
    private static readonly Guid Policy = new("77777777-7777-7777-7777-777777777777");
    private static readonly Guid Route = new("88888888-8888-8888-8888-888888888888");
    private static readonly Guid User = new("99999999-9999-9999-9999-999999999999");
    private static readonly Actor Admin = new(Token, "admin");
    private static readonly DateTimeOffset At = new(2026, 11, 22, 14, 2, 0, TimeSpan.Zero);
    private const long Version = 7;

    /// <summary>One example of every event type, on the stream it is appended to.</summary>
    private static readonly Dictionary<string, IEvent> Samples = new IEvent[]
    {
        On(Net, new NetworkCreated(Net, "corp", "10.10.0.0/24", null, [], null, Admin, At)),
        On(Net, new NetworkUpdated(Net, "corp", "corp.internal", ["10.10.0.1"], 1380, Admin, At)),
        On(Net, new NetworkDeleted(Net, true, Admin, At)),
        On(Net, new NetworkSecurityChanged(Net, true, TimeSpan.FromMinutes(5), 3, TimeSpan.FromMinutes(10), 20, Admin, At)),
        On(Net, new PeerAdded(Net, Peer, "laptop", PeerKind.Dynamic, "10.10.0.2", null, null, null, false, false, [], Admin, At)),
        On(Net, new PeerUpdated(Net, Peer, "laptop", null, 51820, true, false, [], Admin, At)),
        On(Net, new PeerRemoved(Net, Peer, Admin, At)),
        On(Net, new EnrollmentTokenIssued(Net, Peer, "hash", At.AddDays(1), Admin, At)),
        On(Net, new PeerBlocked(Net, Peer, "stolen laptop", Admin, At)),
        On(Net, new PeerUnblocked(Net, Peer, null, Admin, At)),
        On(Net, new PeerEnrolled(Net, Peer, "pub", "host", "1.0", Session, "hash", "198.18.0.5", Actor.System, At)),
        On(Net, new EndpointChanged(Net, Peer, "198.18.0.5:51820", null, Session, At)),
        On(Guid.NewGuid(), new EnrollmentRejected(Guid.NewGuid(), Net, Peer, "used token", "198.18.0.5", "host", At)),
        On(Guid.NewGuid(), new HeartbeatReceived(Guid.NewGuid(), Net, Peer, Session, "198.18.0.5", "host", 51820, [], 5, [], At)),
        On(Incident, new IncidentDetected(Incident, Net, Peer, IncidentType.SessionConflict, "two sessions",
            [new IncidentEvidence(Guid.NewGuid(), At, Session, "198.18.0.5", null)], At)),
        On(Incident, new IncidentResolved(Incident, Net, Peer, "false alarm", true, Admin, At)),
        On(Token, new ApiTokenIssued(Token, "ci", "hash", null, false, Admin, At, ApiTokenRole.Admin)),
        On(Token, new ApiTokenRevoked(Token, Admin, At)),
        On(Net, new DefaultPolicyChanged(Net, DefaultPolicy.Deny, Admin, At)),
        On(Net, new DnsEndpointsAllowanceChanged(Net, true, Admin, At)),
        On(Net, new KeyRotationIntervalChanged(Net, 90, Admin, At)),
        On(Net, new PeerKeyRotated(Net, Peer, "old-pub", "new-pub", Session, new Actor(Session, "agent:host"), At)),
        On(Net, new GroupCreated(Net, Group, "ops", null, Admin, At)),
        On(Net, new GroupUpdated(Net, Group, "operators", "on call", Admin, At)),
        On(Net, new GroupMembersSet(Net, Group, [Peer], Admin, At)),
        On(Net, new GroupDeleted(Net, Group, Admin, At)),
        On(Net, new PolicyCreated(Net, Policy, "ssh", null, new PolicyTargets([Group], []), new PolicyTargets([], [Peer]), ["tcp/22"], Admin, At)),
        On(Net, new PolicyUpdated(Net, Policy, "ssh", null, new PolicyTargets([Group], []), new PolicyTargets([], [Peer]), [], Admin, At)),
        On(Net, new PolicyDeleted(Net, Policy, Admin, At)),
        On(Net, new RouteAdded(Net, Route, "192.168.50.0/24", Peer, [Group], Admin, At)),
        On(Net, new RouteRemoved(Net, Route, Admin, At)),
        On(User, new UserSignedIn(User, "https://idp.example/", "u-1", "a@corp.example", "A", SignInVia.Ui, At)),
        On(User, new UserRoleGranted(User, ApiTokenRole.Viewer, [Net], Admin, At, GrantSource.Admin)),
        On(User, new UserRoleRevoked(User, Admin, At, GrantSource.RoleMap)),
        On(User, new UserDisabled(User, Admin, At)),
        On(User, new UserEnabled(User, Admin, At)),
    }.ToDictionary(e => e.Data.GetType().Name);

    private const string NetworkChanged = """{"type":"network-changed","networkId":"11111111-1111-1111-1111-111111111111","version":7}""";

    private static string PeerChanged(string change) =>
        $$"""{"type":"peer-changed","networkId":"11111111-1111-1111-1111-111111111111","peerId":"22222222-2222-2222-2222-222222222222","change":"{{change}}"}""";

    public static TheoryData<string, string[]> Expected => new()
    {
        { nameof(NetworkCreated), [NetworkChanged] },
        { nameof(NetworkUpdated), [NetworkChanged] },
        { nameof(NetworkDeleted), [NetworkChanged] },
        { nameof(NetworkSecurityChanged), [NetworkChanged] },
        { nameof(EnrollmentTokenIssued), [NetworkChanged] },
        { nameof(PeerAdded), [PeerChanged("added"), NetworkChanged] },
        { nameof(PeerUpdated), [PeerChanged("updated"), NetworkChanged] },
        { nameof(PeerRemoved), [PeerChanged("removed"), NetworkChanged] },
        { nameof(PeerEnrolled), [PeerChanged("enrolled"), NetworkChanged] },
        { nameof(PeerBlocked), [PeerChanged("blocked"), NetworkChanged] },
        { nameof(PeerUnblocked), [PeerChanged("unblocked"), NetworkChanged] },
        { nameof(EndpointChanged), [PeerChanged("endpoint"), NetworkChanged] },
        // Incident events live on the incident's stream: no network-changed from them (the PeerBlocked
        // committed with a detection brings its own).
        {
            nameof(IncidentDetected),
            ["""{"type":"incident-detected","incidentId":"33333333-3333-3333-3333-333333333333","networkId":"11111111-1111-1111-1111-111111111111","peerId":"22222222-2222-2222-2222-222222222222","incidentType":"sessionConflict"}"""]
        },
        {
            nameof(IncidentResolved),
            ["""{"type":"incident-resolved","incidentId":"33333333-3333-3333-3333-333333333333","networkId":"11111111-1111-1111-1111-111111111111","peerId":"22222222-2222-2222-2222-222222222222"}"""]
        },
        // Presence comes from the heartbeat path, not from the (high-volume) heartbeat events.
        { nameof(HeartbeatReceived), [] },
        { nameof(EnrollmentRejected), [] },
        { nameof(ApiTokenIssued), [] },
        { nameof(ApiTokenRevoked), [] },
        // Segmentation changes move the network's version; the UI re-reads groups, policies and routes.
        { nameof(DefaultPolicyChanged), [NetworkChanged] },
        { nameof(DnsEndpointsAllowanceChanged), [NetworkChanged] },
        { nameof(KeyRotationIntervalChanged), [NetworkChanged] },
        { nameof(PeerKeyRotated), [PeerChanged("key-rotated"), NetworkChanged] },
        { nameof(GroupCreated), [NetworkChanged] },
        { nameof(GroupUpdated), [NetworkChanged] },
        { nameof(GroupMembersSet), [NetworkChanged] },
        { nameof(GroupDeleted), [NetworkChanged] },
        { nameof(PolicyCreated), [NetworkChanged] },
        { nameof(PolicyUpdated), [NetworkChanged] },
        { nameof(PolicyDeleted), [NetworkChanged] },
        { nameof(RouteAdded), [NetworkChanged] },
        { nameof(RouteRemoved), [NetworkChanged] },
        // People and their grants are not network state: the users screen re-reads on its own.
        { nameof(UserSignedIn), [] },
        { nameof(UserRoleGranted), [] },
        { nameof(UserRoleRevoked), [] },
        { nameof(UserDisabled), [] },
        { nameof(UserEnabled), [] },
    };

    [Theory]
    [MemberData(nameof(Expected))]
    public void each_event_type_maps_to_its_notices(string eventType, string[] expectedJson)
    {
        var notices = LiveNotices.From(Samples[eventType]);
        Assert.Equal(expectedJson, notices.Select(n => JsonSerializer.Serialize(n, LiveNoticeJson.Default.LiveNotice)));
    }

    [Fact]
    public void every_event_type_in_the_contract_has_a_mapping_test()
    {
        var eventTypes = typeof(NetworkCreated).Assembly.GetExportedTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && t.Namespace != "Wirety.Events.Agent" && t != typeof(IncidentEvidence)
                && t.GetProperty("At")?.PropertyType == typeof(DateTimeOffset))
            .Select(t => t.Name).Order().ToList();
        Assert.Equal(eventTypes, Samples.Keys.Order());
        Assert.Equal(eventTypes, Expected.Select(row => (string)row[0]).Order());
    }

    [Theory]
    [InlineData(IncidentType.SessionConflict, "sessionConflict")]
    [InlineData(IncidentType.SharedConfig, "sharedConfig")]
    [InlineData(IncidentType.SuspiciousActivity, "suspiciousActivity")]
    public void incident_types_are_camel_case_like_the_rest_of_the_api(IncidentType type, string expected)
    {
        var detected = On(Incident, new IncidentDetected(Incident, Net, Peer, type, "s", [], At));
        Assert.Equal(expected, Assert.Single(LiveNotices.From(detected)).IncidentType);
    }

    [Fact]
    public void network_events_on_another_stream_give_no_network_changed()
    {
        // A version only means something on the network's own stream.
        var elsewhere = On(Guid.NewGuid(), new PeerBlocked(Net, Peer, "incident", Actor.System, At));
        Assert.Equal([LiveNotice.PeerChanged], LiveNotices.From(elsewhere).Select(n => n.Type));
    }

    [Fact]
    public void a_commit_gives_one_network_changed_per_network_at_its_last_version_after_the_other_notices()
    {
        var other = Guid.NewGuid();
        var commit = new[]
        {
            On(Net, new PeerAdded(Net, Peer, "laptop", PeerKind.Dynamic, "10.10.0.2", null, null, null, false, false, [], Admin, At), 4),
            On(Net, new EnrollmentTokenIssued(Net, Peer, "hash", At.AddDays(1), Admin, At), 5),
            On(Guid.NewGuid(), new HeartbeatReceived(Guid.NewGuid(), Net, Peer, Session, "198.18.0.5", "host", 51820, [], 5, [], At), 1),
            On(Incident, new IncidentDetected(Incident, Net, Peer, IncidentType.SharedConfig, "flips", [], At), 1),
            On(Net, new PeerBlocked(Net, Peer, "incident", Actor.System, At), 6),
            On(other, new NetworkCreated(other, "lab", "10.20.0.0/24", null, [], null, Admin, At), 1),
        };

        var notices = LiveNotices.FromCommit(commit);

        Assert.Equal(
        [
            $"peer-changed {Peer} added", $"incident-detected {Peer} ", $"peer-changed {Peer} blocked",
            $"network-changed {Net} 6", $"network-changed {other} 1",
        ], notices.Select(n => n.Type switch
        {
            LiveNotice.NetworkChanged => $"{n.Type} {n.NetworkId} {n.Version}",
            _ => $"{n.Type} {n.PeerId} {n.Change}",
        }));
    }

    [Fact]
    public void a_commit_of_heartbeats_gives_nothing()
    {
        var heartbeats = Enumerable.Range(1, 256)
            .Select(i => On(Guid.NewGuid(), new HeartbeatReceived(Guid.NewGuid(), Net, Peer, Session, "198.18.0.5", "host", 51820, [], i, [], At), i));
        Assert.Empty(LiveNotices.FromCommit(heartbeats));
    }

    [Fact]
    public void the_ready_and_presence_messages_have_their_documented_shape()
    {
        Assert.Equal("""{"type":"ready"}""", JsonSerializer.Serialize(new LiveNotice(LiveNotice.Ready), LiveNoticeJson.Default.LiveNotice));
        Assert.Equal(
            """{"type":"peer-online","networkId":"11111111-1111-1111-1111-111111111111","peerId":"22222222-2222-2222-2222-222222222222"}""",
            JsonSerializer.Serialize(LiveNotice.Presence(Net, Peer, online: true), LiveNoticeJson.Default.LiveNotice));
        Assert.Equal(
            """{"type":"peer-offline","networkId":"11111111-1111-1111-1111-111111111111","peerId":"22222222-2222-2222-2222-222222222222"}""",
            JsonSerializer.Serialize(LiveNotice.Presence(Net, Peer, online: false), LiveNoticeJson.Default.LiveNotice));
    }

    private static IEvent On(Guid streamId, object data, long version = Version)
    {
        var e = (IEvent)Activator.CreateInstance(typeof(Event<>).MakeGenericType(data.GetType()), data)!;
        e.StreamId = streamId;
        e.Version = version;
        return e;
    }
}
