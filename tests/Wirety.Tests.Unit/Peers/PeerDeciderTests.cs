using Wirety.Events.Peers;
using Wirety.Server.Agents;
using Wirety.Projections.Networks;
using Wirety.Server.Peers;
using Wolverine.Marten;
using static Wirety.Tests.Unit.Decided;

namespace Wirety.Tests.Unit.Peers;

public sealed class PeerDeciderTests
{
    private static readonly Guid Hub = TestNetwork.PeerId(1), Laptop = TestNetwork.PeerId(2);
    private static readonly Network Net = TestNetwork.Create("10.10.0.0/29")
        .AddPeer(Hub, "hub", PeerKind.Jump, TestNetwork.Key(1), endpoint: "198.18.0.1:51820")
        .AddPeer(Laptop, "laptop", PeerKind.Dynamic);

    private static AddPeerRequest Add(string name, string kind = "dynamic", string? address = null) =>
        new(name, kind, null, null, null, null, null, address);

    [Fact]
    public void adding_a_dynamic_peer_takes_the_lowest_free_address_and_issues_its_first_enrollment_token()
    {
        Accepted(AddPeer.Validate(Add("phone"), Net, Net.Id));

        var (result, events, op) = AddPeer.Post(Add("phone"), Net, Admin, Clock);

        Assert.Equal(2, events.Count);
        var added = Assert.IsType<PeerAdded>(events[0]);
        Assert.Equal(("phone", PeerKind.Dynamic, "10.10.0.3", AdminActor, Now), (added.Name, added.Kind, added.Address, added.Actor, added.At));
        var issued = Assert.IsType<EnrollmentTokenIssued>(events[1]);
        Assert.Equal(added.PeerId, issued.PeerId);
        Assert.IsType<NoOp>(op);

        Assert.Equal(201, Status(result));
        var view = Body<PeerView>(result);
        Assert.Equal(Now + IssueEnrollmentToken.Lifetime, view.EnrollmentTokenExpiresAt);
        Assert.Equal(issued.TokenHash, Wirety.Server.Auth.TokenSecrets.Hash(view.EnrollmentToken!));
        Assert.Null(view.Config);
    }

    [Fact]
    public void adding_a_static_peer_answers_its_config_with_the_private_key_once_and_claims_its_public_key()
    {
        var (result, events, op) = AddPeer.Post(Add("printer", "static", address: "10.10.0.6"), Net, Admin, Clock);

        var added = Assert.IsType<PeerAdded>(Assert.Single(events));
        Assert.Equal("10.10.0.6", added.Address);
        var claim = Assert.IsType<PublicKeyClaim>(Assert.IsAssignableFrom<DocumentOp>(op).Document);
        Assert.Equal((added.PublicKey, added.PeerId), (claim.Id, claim.PeerId));
        var view = Body<PeerView>(result);
        Assert.Contains("PrivateKey = ", view.Config);
        Assert.Null(view.EnrollmentToken);
    }

    [Fact]
    public void a_peer_name_is_unique_in_its_network_and_a_full_network_takes_no_more_peers()
    {
        Refused(AddPeer.Validate(Add("laptop"), Net, Net.Id), 409);

        var full = Net.AddPeer(TestNetwork.PeerId(3), "c", PeerKind.Dynamic).AddPeer(TestNetwork.PeerId(4), "d", PeerKind.Dynamic)
            .AddPeer(TestNetwork.PeerId(5), "e", PeerKind.Dynamic).AddPeer(TestNetwork.PeerId(6), "f", PeerKind.Dynamic);
        Assert.Contains("is full", Refused(AddPeer.Validate(Add("g"), full, full.Id), 409).Detail);
    }

    [Fact]
    public void an_invalid_peer_is_refused_field_by_field()
    {
        var problem = Refused(AddPeer.Validate(new AddPeerRequest("Bad Name", "router", "nohost", 70000, null, null, ["0.0.0.0/0"], null),
            Net, Net.Id), 400);
        Assert.Equal(["additionalAllowedIps", "endpoint", "kind", "listenPort", "name"], Fields(problem));
    }

    [Fact]
    public void updating_a_peer_appends_peer_updated_and_a_request_that_changes_nothing_is_a_no_op()
    {
        var peer = UpdatePeer.Load(Net, Laptop)!;
        var rename = new UpdatePeerRequest("notebook", null, 51821, null, null, null, null, null);
        Accepted(UpdatePeer.Validate(rename, Net, peer, Net.Id, Laptop));

        var (result, events) = UpdatePeer.Patch(rename, Net, peer, Admin, Clock);
        var updated = Assert.IsType<PeerUpdated>(Assert.Single(events));
        Assert.Equal(("notebook", 51821, AdminActor), (updated.Name, updated.ListenPort, updated.Actor));
        Assert.Equal("notebook", Body<PeerView>(result).Name);

        var (_, none) = UpdatePeer.Patch(new UpdatePeerRequest("laptop", null, null, null, null, null, "dynamic", peer.Address), Net, peer, Admin, Clock);
        Assert.Empty(none);
    }

    [Fact]
    public void a_peer_keeps_its_kind_and_address_and_cannot_take_another_peers_name()
    {
        var peer = UpdatePeer.Load(Net, Laptop);
        var problem = Refused(UpdatePeer.Validate(new UpdatePeerRequest(null, null, null, null, null, null, "static", "10.10.0.5"),
            Net, peer, Net.Id, Laptop), 400);
        Assert.Equal(["address", "kind"], Fields(problem));
        Refused(UpdatePeer.Validate(new UpdatePeerRequest("hub", null, null, null, null, null, null, null), Net, peer, Net.Id, Laptop), 409);
        Refused(UpdatePeer.Validate(new UpdatePeerRequest("x", null, null, null, null, null, null, null), Net, null, Net.Id, Guid.NewGuid()), 404);
    }

    [Fact]
    public void removing_a_peer_appends_peer_removed_and_an_unknown_peer_is_a_404()
    {
        Accepted(RemovePeer.Validate(Net, Net.Id, Laptop));
        var (result, events) = RemovePeer.Delete(Laptop, Net, Admin, Clock);
        Assert.Equal(new PeerRemoved(Net.Id, Laptop, AdminActor, Now), Assert.Single(events));
        Assert.Equal(204, Status(result));

        Refused(RemovePeer.Validate(Net, Net.Id, Guid.NewGuid()), 404);
    }

    [Fact]
    public void an_agent_managed_peer_gets_a_new_enrollment_token_and_a_static_one_is_refused()
    {
        Accepted(IssueEnrollmentToken.Validate(Net, Net.Id, Laptop));
        var (result, events) = IssueEnrollmentToken.Post(Laptop, Net, Admin, Clock);
        var issued = Assert.IsType<EnrollmentTokenIssued>(Assert.Single(events));
        var body = Body<IssuedEnrollmentToken>(result);
        Assert.Equal((Laptop, Now + IssueEnrollmentToken.Lifetime), (issued.PeerId, issued.ExpiresAt));
        Assert.Equal(issued.TokenHash, Wirety.Server.Auth.TokenSecrets.Hash(body.EnrollmentToken));

        var printer = TestNetwork.PeerId(9);
        Refused(IssueEnrollmentToken.Validate(Net.AddPeer(printer, "printer", PeerKind.Static, TestNetwork.Key(9)), Net.Id, printer), 409);
    }
}
