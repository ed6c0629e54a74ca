using Wirety.Events;
using Wirety.Events.Incidents;
using Wirety.Events.Networks;
using Wirety.Events.Peers;
using Wirety.Projections.History;
using Wirety.Projections.Incidents;

namespace Wirety.Tests.Unit.History;

public sealed class NetworkReplayTests
{
    private static readonly Guid Net = Guid.NewGuid(), Laptop = Guid.NewGuid(), IncidentId = Guid.NewGuid();
    private static readonly Actor Admin = new(Guid.NewGuid(), "admin");
    private static readonly DateTimeOffset T0 = new(2026, 5, 1, 14, 0, 0, TimeSpan.Zero);

    private static RecordedEvent On(Guid stream, long seq, long version, object data) => new(seq, stream, version, data, T0);

    private static readonly RecordedEvent[] NetworkStream =
    [
        On(Net, 1, 1, new NetworkCreated(Net, "corp", "10.0.0.0/24", null, [], null, Admin, T0)),
        On(Net, 2, 2, new PeerAdded(Net, Laptop, "laptop", PeerKind.Dynamic, "10.0.0.1", null, null, null, false, false, [], Admin, T0.AddMinutes(1))),
        On(Net, 4, 3, new PeerBlocked(Net, Laptop, "session conflict", Actor.System, T0.AddMinutes(2))),
        On(Net, 6, 4, new PeerUnblocked(Net, Laptop, "resolved", Admin, T0.AddMinutes(3))),
        On(Net, 7, 5, new NetworkDeleted(Net, true, Admin, T0.AddMinutes(4))),
    ];

    private static readonly RecordedEvent[] IncidentStream =
    [
        On(IncidentId, 3, 1, new IncidentDetected(IncidentId, Net, Laptop, IncidentType.SessionConflict, "two places", [], T0.AddMinutes(2))),
        On(IncidentId, 5, 2, new IncidentResolved(IncidentId, Net, Laptop, "wiped", true, Admin, T0.AddMinutes(3))),
    ];

    [Fact]
    public void each_point_shows_what_the_events_up_to_it_say()
    {
        Assert.Null(NetworkReplay.AsOf(NetworkStream, IncidentStream, 0).Network);
        Assert.Empty(NetworkReplay.AsOf(NetworkStream, IncidentStream, 1).Network!.Peers);

        var detected = NetworkReplay.AsOf(NetworkStream, IncidentStream, 4);
        Assert.True(detected.Network!.FindPeer(Laptop)!.Blocked);
        Assert.Equal(IncidentState.Open, Assert.Single(detected.Incidents).State);
        Assert.Equal(4, detected.Sequence);
        Assert.Equal(3, detected.Network.Version);

        var resolved = NetworkReplay.AsOf(NetworkStream, IncidentStream, 6);
        Assert.False(resolved.Network!.FindPeer(Laptop)!.Blocked);
        Assert.Equal(IncidentState.Resolved, Assert.Single(resolved.Incidents).State);

        Assert.Null(NetworkReplay.AsOf(NetworkStream, IncidentStream, 7).Network);
    }

    [Fact]
    public void a_time_stands_for_the_last_event_decided_at_or_before_it()
    {
        var all = NetworkStream.Concat(IncidentStream).ToList();
        Assert.Equal(0, NetworkReplay.SequenceAt(all, T0.AddSeconds(-1)));
        Assert.Equal(1, NetworkReplay.SequenceAt(all, T0.AddSeconds(59)));
        Assert.Equal(4, NetworkReplay.SequenceAt(all, T0.AddMinutes(2)));
        Assert.Equal(7, NetworkReplay.SequenceAt(all, T0.AddYears(1)));
    }
}
