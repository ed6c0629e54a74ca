using Wirety.Events;
using Wirety.Events.Peers;
using Wirety.Events.Segmentation;
using Wirety.Projections.Networks;
using Wirety.Server.Networks;
using Wirety.Server.Policies;
using static Wirety.Tests.Unit.Decided;

namespace Wirety.Tests.Unit.Policies;

public sealed class PolicyDeciderTests
{
    private static readonly Guid Hub = TestNetwork.PeerId(1), Laptop = TestNetwork.PeerId(2), Server = TestNetwork.PeerId(3), Db = TestNetwork.PeerId(4);
    private static readonly Guid Ops = TestNetwork.PeerId(0x100);
    private static readonly Network Net = NetworkEvolution.Evolve(
        TestNetwork.Create()
            .AddPeer(Hub, "hub", PeerKind.Jump, TestNetwork.Key(1), endpoint: "198.18.0.1:51820")
            .AddPeer(Laptop, "laptop", PeerKind.Dynamic)
            .AddPeer(Server, "server", PeerKind.Dynamic)
            .AddPeer(Db, "db", PeerKind.Dynamic),
        [
            new GroupCreated(TestNetwork.NetworkId, Ops, "ops", null, Actor.System, TestNetwork.At),
            new GroupMembersSet(TestNetwork.NetworkId, Ops, [Laptop], Actor.System, TestNetwork.At),
        ])!;

    private static CreatePolicyRequest Ssh(string name = "ssh", params string[] ports) =>
        new(name, null, new PolicyTargetsRequest([Ops], null), new PolicyTargetsRequest(null, [Server, Db, Server]), ports);

    [Fact]
    public void creating_a_policy_canonicalises_its_targets_and_ports()
    {
        var request = Ssh("ssh", "udp/53", "tcp/22", "tcp/22", "icmp", "tcp/8000-8100");
        Accepted(CreatePolicy.Validate(request, Net, Net.Id));

        var (result, events) = CreatePolicy.Post(request, Net, Admin, Clock);

        var created = Assert.IsType<PolicyCreated>(Assert.Single(events));
        Assert.Equal(["tcp/22", "tcp/8000-8100", "udp/53", "icmp"], created.Ports);
        Assert.Equal(new[] { Server, Db }.Order(), created.Destinations.Peers);
        Assert.Equal([Ops], created.Sources.Groups);
        Assert.Equal((AdminActor, Now), (created.Actor, created.At));
        Assert.Equal(201, Status(result));
        Assert.Equal(["ops"], Body<PolicyView>(result).Sources.Groups.Select(g => g.Name));
    }

    [Fact]
    public void a_policy_needs_sources_destinations_known_ids_and_readable_ports()
    {
        var none = new PolicyTargetsRequest([], []);
        Assert.Equal(["destinations", "ports", "sources"], Fields(Refused(CreatePolicy.Validate(
            new CreatePolicyRequest("p", null, none, null, ["tcp/0"]), Net, Net.Id), 400)));
        var ghost = Guid.NewGuid();
        var problem = Refused(CreatePolicy.Validate(
            new CreatePolicyRequest("p", null, new PolicyTargetsRequest([ghost], [Laptop]), new PolicyTargetsRequest(null, [Guid.Empty]), null), Net, Net.Id), 400);
        Assert.Contains(ghost.ToString(), problem.Detail);
        Assert.Contains(Guid.Empty.ToString(), problem.Detail);
        Assert.Contains("the range runs backwards", Refused(CreatePolicy.Validate(Ssh("p", "tcp/9-1"), Net, Net.Id), 400).Detail);
        Refused(CreatePolicy.Validate(Ssh("p", Enumerable.Range(1, 65).Select(p => $"tcp/{p}").ToArray()), Net, Net.Id), 400);
    }

    [Fact]
    public void policy_names_are_unique_in_the_network()
    {
        var after = NetworkEvolution.Evolve(Net, CreatePolicy.Post(Ssh(), Net, Admin, Clock).Item2[0])!;
        Refused(CreatePolicy.Validate(Ssh("SSH"), after, after.Id), 409);
    }

    [Fact]
    public void an_update_that_changes_nothing_appends_nothing_and_one_that_does_keeps_the_rest()
    {
        var created = (PolicyCreated)CreatePolicy.Post(Ssh("ssh", "tcp/22"), Net, Admin, Clock).Item2[0];
        var net = NetworkEvolution.Evolve(Net, created)!;
        var policy = UpdatePolicy.Load(net, created.PolicyId)!;

        Assert.Null(UpdatePolicy.Decide(new UpdatePolicyRequest("ssh", null, null, new PolicyTargetsRequest(null, [Db, Server]), ["tcp/22"]),
            net, policy, AdminActor, Now));
        var updated = UpdatePolicy.Decide(new UpdatePolicyRequest(null, null, null, null, []), net, policy, AdminActor, Now)!;
        Assert.Empty(updated.Ports);
        Assert.Equal(("ssh", created.Sources, created.Destinations), (updated.Name, updated.Sources, updated.Destinations));

        // A side given in a patch must still name someone.
        Refused(UpdatePolicy.Validate(new UpdatePolicyRequest(null, null, new PolicyTargetsRequest([], []), null, null), net, policy, net.Id, policy.Id), 400);
        Refused(UpdatePolicy.Validate(new UpdatePolicyRequest("x", null, null, null, null), net, null, net.Id, Guid.NewGuid()), 404);
    }

    [Fact]
    public void the_default_policy_goes_with_a_network_update_in_one_commit()
    {
        Assert.Equal(["defaultPolicy"], Fields(Refused(UpdateNetwork.Validate(
            new UpdateNetworkRequest(null, null, null, null, null) { DefaultPolicy = "Deny" }, Net, [Net], Net.Id), 400)));

        var (result, events) = UpdateNetwork.Patch(new UpdateNetworkRequest("renamed", null, null, null, null) { DefaultPolicy = "deny" }, Net, Admin, Clock);
        Assert.Collection(events, e => Assert.IsType<Wirety.Events.Networks.NetworkUpdated>(e),
            e => Assert.Equal(DefaultPolicy.Deny, Assert.IsType<DefaultPolicyChanged>(e).DefaultPolicy));
        var view = Body<NetworkView>(result);
        Assert.Equal((DefaultPolicy.Deny, Net.Version + 2), (view.DefaultPolicy, view.Version));

        var (_, none) = UpdateNetwork.Patch(new UpdateNetworkRequest(null, null, null, null, null) { DefaultPolicy = "allow" }, Net, Admin, Clock);
        Assert.Empty(none);
    }
}
