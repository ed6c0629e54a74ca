using Wirety.Events.Peers;
using Wirety.Projections.Networks;
using Wirety.Server.Peers;
using static Wirety.Tests.Unit.Decided;

namespace Wirety.Tests.Unit.Peers;

public sealed class BlockingDeciderTests
{
    private static readonly Guid Phone = TestNetwork.PeerId(1);
    private static readonly Network Net = TestNetwork.Create().AddPeer(Phone, "phone", PeerKind.Dynamic);

    [Fact]
    public void blocking_a_peer_appends_peer_blocked_with_the_trimmed_reason_and_answers_the_blocked_peer()
    {
        var peer = BlockPeer.Load(Net, Phone)!;
        Accepted(BlockPeer.Validate(new BlockPeerRequest(" lost laptop "), Net, peer, Net.Id, Phone));

        var (result, events) = BlockPeer.Post(new BlockPeerRequest(" lost laptop "), Net, peer, Admin, Clock);

        Assert.Equal(new PeerBlocked(Net.Id, Phone, "lost laptop", AdminActor, Now), Assert.Single(events));
        var view = Body<PeerView>(result);
        Assert.True(view.Blocked);
        Assert.Equal("lost laptop", view.BlockReason);
    }

    [Fact]
    public void blocking_an_already_blocked_peer_is_a_no_op()
    {
        var blocked = Net.Block(Phone);
        var (result, events) = BlockPeer.Post(new BlockPeerRequest("again"), blocked, BlockPeer.Load(blocked, Phone)!, Admin, Clock);

        Assert.Empty(events);
        Assert.Equal(200, Status(result));
        Assert.Equal("test", Body<PeerView>(result).BlockReason);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    public void a_block_needs_a_reason(string? reason)
    {
        var problem = Refused(BlockPeer.Validate(new BlockPeerRequest(reason), Net, BlockPeer.Load(Net, Phone), Net.Id, Phone), 400);
        Assert.Equal(["reason"], Fields(problem));
    }

    [Fact]
    public void a_block_without_a_body_or_of_an_unknown_peer_or_network_is_refused()
    {
        Refused(BlockPeer.Validate(null, Net, BlockPeer.Load(Net, Phone), Net.Id, Phone), 400);
        var stranger = Guid.NewGuid();
        Assert.Equal($"There is no peer {stranger} in network 'test-net'.",
            Refused(BlockPeer.Validate(new("x"), Net, BlockPeer.Load(Net, stranger), Net.Id, stranger), 404).Detail);
        Assert.Equal($"There is no network {Net.Id}.", Refused(BlockPeer.Validate(new("x"), null, BlockPeer.Load(null, Phone), Net.Id, Phone), 404).Detail);
    }

    [Fact]
    public void unblocking_a_blocked_peer_appends_peer_unblocked_and_the_body_may_be_omitted()
    {
        var blocked = Net.Block(Phone);
        var peer = UnblockPeer.Load(blocked, Phone)!;
        Accepted(UnblockPeer.Validate(null, blocked, peer, Net.Id, Phone));

        var (result, events) = UnblockPeer.Post(null, blocked, peer, Admin, Clock);

        Assert.Equal(new PeerUnblocked(Net.Id, Phone, null, AdminActor, Now), Assert.Single(events));
        Assert.False(Body<PeerView>(result).Blocked);
    }

    [Fact]
    public void unblocking_a_peer_that_is_not_blocked_is_a_no_op()
    {
        var (result, events) = UnblockPeer.Post(new BlockPeerRequest("fine"), Net, UnblockPeer.Load(Net, Phone)!, Admin, Clock);
        Assert.Empty(events);
        Assert.False(Body<PeerView>(result).Blocked);
    }

    [Fact]
    public void an_overlong_unblock_reason_is_refused()
    {
        var problem = Refused(UnblockPeer.Validate(new BlockPeerRequest(new string('x', BlockPeer.MaxReasonLength + 1)), Net,
            UnblockPeer.Load(Net, Phone), Net.Id, Phone), 400);
        Assert.Equal(["reason"], Fields(problem));
    }
}
