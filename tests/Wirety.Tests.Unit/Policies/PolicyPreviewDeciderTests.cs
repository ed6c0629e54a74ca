using Wirety.Events;
using Wirety.Events.Peers;
using Wirety.Events.Segmentation;
using Wirety.Projections.Networks;
using Wirety.Server.Policies;
using static Wirety.Tests.Unit.Decided;

namespace Wirety.Tests.Unit.Policies;

public sealed class PolicyPreviewDeciderTests
{
    private static readonly Guid Hub = TestNetwork.PeerId(1), Laptop = TestNetwork.PeerId(2), Server = TestNetwork.PeerId(3);
    private static readonly Guid Ssh = TestNetwork.PeerId(0x200);
    private static readonly Network Net = NetworkEvolution.Evolve(
        TestNetwork.Create()
            .AddPeer(Hub, "hub", PeerKind.Jump, TestNetwork.Key(1), endpoint: "198.18.0.1:51820")
            .AddPeer(Laptop, "laptop", PeerKind.Dynamic)
            .AddPeer(Server, "server", PeerKind.Dynamic),
        [
            new PolicyCreated(TestNetwork.NetworkId, Ssh, "ssh", null, new PolicyTargets([], [Laptop]), new PolicyTargets([], [Server]), ["tcp/22"],
                Actor.System, TestNetwork.At),
            new DefaultPolicyChanged(TestNetwork.NetworkId, DefaultPolicy.Deny, Actor.System, TestNetwork.At),
        ])!;

    private static CreatePolicyRequest Web(string name = "web") =>
        new(name, null, new PolicyTargetsRequest(null, [Laptop]), new PolicyTargetsRequest(null, [Server]), ["tcp/443"]);

    [Fact]
    public void the_preview_folds_removals_updates_and_additions_in_that_order()
    {
        var (problem, after) = PreviewPolicies.Apply(
            new PreviewPoliciesRequest([Web("ssh")], [Ssh], null, null), Net, AdminActor, Now);
        Accepted(problem);
        var policy = Assert.Single(after!.Policies);
        Assert.Equal("ssh", policy.Name);
        Assert.Equal(["tcp/443"], policy.Ports.ToArray());
        Assert.NotEqual(Ssh, policy.Id);

        var diff = PreviewPolicies.Diff(Net, after);
        Assert.Equal(["tcp/443"], Assert.Single(diff.Gained).Ports);
        Assert.Equal(["tcp/22"], Assert.Single(diff.Lost).Ports);
        Assert.False(diff.Truncated);
    }

    [Fact]
    public void back_to_allow_gains_every_pair_and_empty_ports_mean_everything()
    {
        var (_, after) = PreviewPolicies.Apply(new PreviewPoliciesRequest(null, null, null, "allow"), Net, AdminActor, Now);
        var diff = PreviewPolicies.Diff(Net, after!);
        Assert.Equal(6, diff.Gained.Count);
        var laptopToServer = diff.Gained.Single(p => p.From.Id == Laptop && p.To.Id == Server);
        Assert.Equal(["tcp/1-21", "tcp/23-65535", "udp", "icmp"], laptopToServer.Ports);
        Assert.Empty(diff.Gained.Single(p => p.From.Id == Hub && p.To.Id == Server).Ports);
        Assert.Empty(diff.Lost);
    }

    [Fact]
    public void an_invalid_item_is_refused_by_the_same_rules_as_the_real_change_and_named()
    {
        var (problem, after) = PreviewPolicies.Apply(new PreviewPoliciesRequest([Web(), Web("ssh")], null, null, null), Net, AdminActor, Now);
        Assert.Null(after);
        Assert.StartsWith("add[1]:", Refused(problem, 409).Detail);

        (problem, _) = PreviewPolicies.Apply(new PreviewPoliciesRequest(null, [Guid.Empty], null, null), Net, AdminActor, Now);
        Assert.Equal(["remove[0]"], Fields(Refused(problem, 400)));

        (problem, _) = PreviewPolicies.Apply(new PreviewPoliciesRequest(null, null,
            [new PolicyPreviewUpdate(Ssh, null, null, null, null, ["tcp/http"])], null), Net, AdminActor, Now);
        Assert.Equal(["update[0].ports"], Fields(Refused(problem, 400)));

        (problem, _) = PreviewPolicies.Apply(new PreviewPoliciesRequest(null, null, null, "nope"), Net, AdminActor, Now);
        Assert.Equal(["defaultPolicy"], Fields(Refused(problem, 400)));
    }
}
