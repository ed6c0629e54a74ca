using Wirety.Events;
using Wirety.Events.Incidents;
using Wirety.Events.Peers;
using Wirety.Projections.Incidents;
using Wirety.Projections.Networks;
using Wirety.Server.Incidents;
using static Wirety.Tests.Unit.Decided;

namespace Wirety.Tests.Unit.Incidents;

public sealed class ResolveIncidentTests
{
    private static readonly Guid Phone = TestNetwork.PeerId(1);
    private static readonly Network Blocked = TestNetwork.Create().AddPeer(Phone, "phone", PeerKind.Dynamic).Block(Phone);
    private static readonly Incident Open = IncidentEvolution.Evolve(null, new IncidentDetected(
        Guid.Parse("00000000-0000-0000-0000-00000000ffff"), TestNetwork.NetworkId, Phone, IncidentType.SessionConflict,
        "two sessions", [], TestNetwork.At))!;

    [Fact]
    public void resolving_with_unblock_records_who_and_why_and_unblocks_the_peer_on_its_network_stream()
    {
        var request = new ResolveIncidentRequest(" rotated the key ", true);
        Accepted(ResolveIncident.Validate(request, Open, Open.Id, Admin));

        var (result, events, unblock) = ResolveIncident.Post(request, Open, Blocked, Admin, Clock);

        Assert.Equal(new IncidentResolved(Open.Id, Open.NetworkId, Phone, "rotated the key", true, AdminActor, Now), Assert.Single(events));
        Assert.NotNull(unblock);
        Assert.Equal(Open.NetworkId, unblock.StreamId);
        Assert.Equal(new PeerUnblocked(Open.NetworkId, Phone, $"incident {Open.Id} resolved: rotated the key", AdminActor, Now),
            Assert.Single(unblock.Events));
        var resolved = Body<Incident>(result);
        Assert.Equal((IncidentState.Resolved, Now, "rotated the key"), (resolved.State, resolved.ResolvedAt, resolved.ResolutionNote));
    }

    [Fact]
    public void resolving_without_unblock_or_for_a_peer_that_is_not_blocked_leaves_the_peer_alone()
    {
        Assert.Null(ResolveIncident.Post(new("false alarm", false), Open, Blocked, Admin, Clock).Item3);
        Assert.Null(ResolveIncident.Post(new("false alarm", true), Open, Blocked.Unblock(Phone), Admin, Clock).Item3);
        // The network may be gone: the incident is still resolved.
        var (_, events, unblock) = ResolveIncident.Post(new("network deleted", true), Open, null, Admin, Clock);
        Assert.False(Assert.IsType<IncidentResolved>(Assert.Single(events)).Unblocked);
        Assert.Null(unblock);
    }

    [Fact]
    public void resolving_a_resolved_incident_is_a_no_op()
    {
        var resolved = IncidentEvolution.Evolve(Open, new IncidentResolved(Open.Id, Open.NetworkId, Phone, "done", false, Wirety.Events.Actor.System, TestNetwork.At))!;
        var (result, events, unblock) = ResolveIncident.Post(new("again", true), resolved, Blocked, Admin, Clock);
        Assert.Empty(events);
        Assert.Null(unblock);
        Assert.Equal("done", Body<Incident>(result).ResolutionNote);
    }

    [Fact]
    public void a_resolution_needs_a_note_and_an_existing_incident()
    {
        Assert.Equal(["note"], Fields(Refused(ResolveIncident.Validate(new("  ", true), Open, Open.Id, Admin), 400)));
        Refused(ResolveIncident.Validate(null, Open, Open.Id, Admin), 400);
        Assert.Equal($"There is no incident {Open.Id}.", Refused(ResolveIncident.Validate(new("x", null), null, Open.Id, Admin), 404).Detail);
    }

    [Fact]
    public void an_incident_of_a_network_outside_the_callers_is_answered_as_missing()
    {
        var elsewhere = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(
            [.. Admin.Claims, .. Wirety.Server.Auth.NetworkScope.ClaimsFor([Guid.Parse("00000000-0000-0000-0000-0000000000aa")])], "test"));
        var inScope = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(
            [.. Admin.Claims, .. Wirety.Server.Auth.NetworkScope.ClaimsFor([Open.NetworkId])], "test"));
        Assert.Equal($"There is no incident {Open.Id}.", Refused(ResolveIncident.Validate(new("x", null), Open, Open.Id, elsewhere), 404).Detail);
        Accepted(ResolveIncident.Validate(new("x", null), Open, Open.Id, inScope));
    }
}
