using Wirety.Events;
using Wirety.Events.Networks;
using Wirety.Events.Peers;
using Wirety.Events.Segmentation;
using Wirety.Projections.History;

namespace Wirety.Tests.Unit.History;

public class TimelineSegmentationTests
{
    private static readonly Guid Net = Guid.Parse("00000000-0000-0000-0000-00000000aaaa");
    private static readonly Guid Alice = Guid.Parse("00000000-0000-0000-0000-000000000001"), Bob = Guid.Parse("00000000-0000-0000-0000-000000000002");
    private static readonly Guid Admins = Guid.Parse("00000000-0000-0000-0000-000000000010"), Ssh = Guid.Parse("00000000-0000-0000-0000-000000000020");
    private static readonly Guid Lan = Guid.Parse("00000000-0000-0000-0000-000000000030");
    private static readonly Actor Admin = new(Guid.Parse("00000000-0000-0000-0000-0000000000ad"), "ops-admin");
    private static readonly DateTimeOffset At = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void groups_policies_routes_and_the_default_policy_read_as_sentences_with_the_names_of_the_time()
    {
        object[] events =
        [
            new NetworkCreated(Net, "office", "10.10.0.0/24", null, [], null, Admin, At),
            new PeerAdded(Net, Alice, "alice", PeerKind.Dynamic, "10.10.0.1", null, null, null, false, false, [], Admin, At),
            new PeerAdded(Net, Bob, "bob", PeerKind.Dynamic, "10.10.0.2", null, null, null, false, false, [], Admin, At),
            new GroupCreated(Net, Admins, "admins", null, Admin, At),
            new GroupMembersSet(Net, Admins, [Alice], Admin, At),
            new DefaultPolicyChanged(Net, DefaultPolicy.Deny, Admin, At),
            new PolicyCreated(Net, Ssh, "ssh", null, new PolicyTargets([Admins], []), new PolicyTargets([], [Bob]), ["tcp/22"], Admin, At),
            new RouteAdded(Net, Lan, "192.168.10.0/24", Bob, [Admins], Admin, At),
            new PolicyDeleted(Net, Ssh, Admin, At),
            new RouteRemoved(Net, Lan, Admin, At),
            new GroupDeleted(Net, Admins, Admin, At),
        ];
        var timeline = Timeline.Build(events.Select((e, i) => new RecordedEvent(i + 1, Net, i + 1, e, At)));

        Assert.Equal(
        [
            "ops-admin created group admins",
            "ops-admin set the members of group admins: alice",
            "ops-admin set the default policy of network office to deny",
            "ops-admin created policy ssh: group admins → peer bob on tcp/22",
            "ops-admin added route 192.168.10.0/24 via peer bob for group admins",
            "ops-admin deleted policy ssh",
            "ops-admin removed route 192.168.10.0/24 via peer bob",
            "ops-admin deleted group admins",
        ], timeline.Skip(3).Select(e => e.Summary));
        Assert.Equal("policy", timeline[6].Subject.Kind);
    }
}
