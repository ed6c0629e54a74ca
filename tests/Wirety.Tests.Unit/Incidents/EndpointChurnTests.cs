using Wirety.Events.Incidents;
using Wirety.Events.Peers;
using Wirety.Projections.Incidents;
using Wirety.Projections.Networks;
using Wirety.Server.Agents;
using Wirety.Server.Incidents;

namespace Wirety.Tests.Unit.Incidents;

public sealed class EndpointChurnTests
{
    private static readonly Guid Peer = TestNetwork.PeerId(1), Session = Guid.Parse("00000000-0000-0000-0000-0000000005e5");
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private static Network Enrolled() =>
        NetworkEvolution.Evolve(TestNetwork.Create().AddPeer(Peer, "laptop", PeerKind.Dynamic),
            new PeerEnrolled(TestNetwork.NetworkId, Peer, TestNetwork.Key(1), "h", null, Session, "hash", "198.51.100.1",
                Wirety.Events.Actor.System, TestNetwork.At))!;

    private static EndpointChanged? Decide(Network network, string endpoint, TimeSpan after)
    {
        var sighted = new PeerSighted(Guid.NewGuid(), network.Id, Peer, Session, "198.51.100.1", endpoint, TestNetwork.At + after);
        var sightings = new PeerSightings(Peer, network.Id, []).Add(new Sighting(sighted.HeartbeatId, sighted.At, Session, sighted.SourceAddress,
            endpoint, Wirety.Events.Addressing.WireGuardEndpoint.HostOf(endpoint)));
        return DetectIncidents.Decide(sighted, network, sightings, new HashSet<IncidentType>(), null, Guid.NewGuid(), Interval).EndpointChanged;
    }

    [Fact]
    public void the_first_endpoint_after_enrollment_is_taken_at_once_and_the_next_only_after_the_interval()
    {
        var first = Decide(Enrolled(), "192.0.2.1:51820", TimeSpan.Zero);
        Assert.NotNull(first);
        var moved = NetworkEvolution.Evolve(Enrolled(), first!)!;
        Assert.Null(Decide(moved, "192.0.2.2:51820", Interval - TimeSpan.FromSeconds(1)));
        Assert.Equal("192.0.2.2:51820", Decide(moved, "192.0.2.2:51820", Interval)?.Endpoint);
        // A new enrollment starts over: its first endpoint is taken at once.
        var reEnrolled = NetworkEvolution.Evolve(moved, new PeerEnrolled(TestNetwork.NetworkId, Peer, TestNetwork.Key(2), "h", null, Session,
            "hash2", "198.51.100.1", Wirety.Events.Actor.System, TestNetwork.At + TimeSpan.FromSeconds(5)))!;
        Assert.NotNull(Decide(reEnrolled, "192.0.2.3:51820", TimeSpan.FromSeconds(6)));
    }

    [Fact]
    public void refused_enrollments_from_one_address_share_a_stream_per_period()
    {
        var day = TimeSpan.FromDays(1);
        var morning = TestNetwork.At.Date + TimeSpan.FromHours(1);
        Assert.Equal(EnrollAgent.RejectionStream("198.51.100.9", morning, day), EnrollAgent.RejectionStream("198.51.100.9", morning.AddHours(20), day));
        Assert.NotEqual(EnrollAgent.RejectionStream("198.51.100.9", morning, day), EnrollAgent.RejectionStream("198.51.100.9", morning.AddDays(1), day));
        Assert.NotEqual(EnrollAgent.RejectionStream("198.51.100.9", morning, day), EnrollAgent.RejectionStream("198.51.100.10", morning, day));
    }
}
