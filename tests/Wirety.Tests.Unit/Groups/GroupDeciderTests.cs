using Wirety.Events;
using Wirety.Events.Peers;
using Wirety.Events.Segmentation;
using Wirety.Projections.Networks;
using Wirety.Server.Groups;
using static Wirety.Tests.Unit.Decided;

namespace Wirety.Tests.Unit.Groups;

public sealed class GroupDeciderTests
{
    private static readonly Guid Hub = TestNetwork.PeerId(1), Laptop = TestNetwork.PeerId(2), Server = TestNetwork.PeerId(3);
    private static readonly Guid Ops = TestNetwork.PeerId(0x100);
    private static readonly Network Net = NetworkEvolution.Evolve(
        TestNetwork.Create()
            .AddPeer(Hub, "hub", PeerKind.Jump, TestNetwork.Key(1), endpoint: "198.18.0.1:51820")
            .AddPeer(Laptop, "laptop", PeerKind.Dynamic)
            .AddPeer(Server, "server", PeerKind.Dynamic),
        new GroupCreated(TestNetwork.NetworkId, Ops, "ops", null, Actor.System, TestNetwork.At))!;

    [Fact]
    public void creating_a_group_appends_group_created_and_answers_it_empty()
    {
        var request = new CreateGroupRequest("dev", "developers");
        Accepted(CreateGroup.Validate(request, Net, Net.Id));

        var (result, events) = CreateGroup.Post(request, Net, Admin, Clock);

        var created = Assert.IsType<GroupCreated>(Assert.Single(events));
        Assert.Equal(("dev", "developers", AdminActor, Now), (created.Name, created.Description, created.Actor, created.At));
        Assert.Equal(201, Status(result));
        var view = Body<GroupView>(result);
        Assert.Equal((created.GroupId, "dev"), (view.Id, view.Name));
        Assert.Empty(view.Members);
    }

    [Fact]
    public void group_names_follow_the_network_name_rules_and_are_unique_case_aside()
    {
        Assert.Equal(["name"], Fields(Refused(CreateGroup.Validate(new CreateGroupRequest(" ops", null), Net, Net.Id), 400)));
        Assert.Equal(["name"], Fields(Refused(CreateGroup.Validate(new CreateGroupRequest(null, null), Net, Net.Id), 400)));
        Assert.Contains("already exists", Refused(CreateGroup.Validate(new CreateGroupRequest("OPS", null), Net, Net.Id), 409).Detail);
        Refused(CreateGroup.Validate(new CreateGroupRequest("dev", null), null, Net.Id), 404);
        Refused(CreateGroup.Validate(null, Net, Net.Id), 400);
    }

    [Fact]
    public void members_are_a_sorted_set_and_the_same_set_again_is_a_no_op()
    {
        var group = SetGroupMembers.Load(Net, Ops)!;
        var request = new SetGroupMembersRequest([Server, Laptop, Server]);
        Accepted(SetGroupMembers.Validate(request, Net, group, Net.Id, Ops));

        var (result, events) = SetGroupMembers.Put(request, Net, group, Admin, Clock);
        var set = Assert.IsType<GroupMembersSet>(Assert.Single(events));
        Assert.Equal(new[] { Laptop, Server }.Order(), set.PeerIds);
        Assert.Equal(["laptop", "server"], Body<GroupView>(result).Members.Select(m => m.Name).Order());

        var after = NetworkEvolution.Evolve(Net, set)!;
        var (_, none) = SetGroupMembers.Put(new SetGroupMembersRequest([Laptop, Server]), after, after.FindGroup(Ops)!, Admin, Clock);
        Assert.Empty(none);
    }

    [Fact]
    public void members_must_be_peers_of_the_network_and_the_problem_names_the_others()
    {
        var stranger = Guid.NewGuid();
        var problem = Refused(SetGroupMembers.Validate(new SetGroupMembersRequest([Laptop, stranger, Guid.Empty]), Net, Net.FindGroup(Ops), Net.Id, Ops), 400);
        Assert.Contains(stranger.ToString(), problem.Detail);
        Assert.Contains(Guid.Empty.ToString(), problem.Detail);
        Assert.DoesNotContain(Laptop.ToString(), problem.Detail);
        Refused(SetGroupMembers.Validate(new SetGroupMembersRequest(null), Net, Net.FindGroup(Ops), Net.Id, Ops), 400);
        Refused(SetGroupMembers.Validate(new SetGroupMembersRequest([]), Net, null, Net.Id, Guid.Empty), 404);
    }

    [Fact]
    public void a_rename_appends_group_updated_and_an_unchanged_one_appends_nothing()
    {
        var group = UpdateGroup.Load(Net, Ops)!;
        var (_, none) = UpdateGroup.Patch(new UpdateGroupRequest("ops", null), Net, group, Admin, Clock);
        Assert.Empty(none);
        var (result, events) = UpdateGroup.Patch(new UpdateGroupRequest("operators", "on call"), Net, group, Admin, Clock);
        Assert.Equal(("operators", "on call"), (Assert.IsType<GroupUpdated>(Assert.Single(events)).Name, Body<GroupView>(result).Description));
    }

    [Fact]
    public void a_group_that_is_a_routes_only_audience_cannot_be_deleted()
    {
        var routed = NetworkEvolution.Evolve(Net, new RouteAdded(Net.Id, Guid.NewGuid(), "192.168.50.0/24", Server, [Ops], Actor.System, TestNetwork.At))!;
        Assert.Contains("192.168.50.0/24", Refused(DeleteGroup.Validate(routed, Net.Id, Ops), 409).Detail);
        Accepted(DeleteGroup.Validate(Net, Net.Id, Ops));
        Refused(DeleteGroup.Validate(Net, Net.Id, Guid.NewGuid()), 404);
    }
}
