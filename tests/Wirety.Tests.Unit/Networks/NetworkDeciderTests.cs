using Wirety.Events.Networks;
using Wirety.Events.Peers;
using Wirety.Projections.Networks;
using Wirety.Server.Networks;
using static Wirety.Tests.Unit.Decided;

namespace Wirety.Tests.Unit.Networks;

public sealed class NetworkDeciderTests
{
    private static readonly Network Net = TestNetwork.Create("10.10.0.0/24");

    [Fact]
    public void creating_a_network_starts_its_stream_with_canonical_settings()
    {
        var request = new CreateNetworkRequest("lab", "10.20.0.0/16", "", ["2001:DB8::1"], 0);
        Accepted(CreateNetwork.Validate(request, [Net]));

        var (result, start) = CreateNetwork.Post(request, Admin, Clock);

        var created = Assert.IsType<NetworkCreated>(Assert.Single(start.Events));
        Assert.Equal(created.NetworkId, start.StreamId);
        Assert.Equal(("lab", "10.20.0.0/16", (string?)null, "2001:db8::1", (int?)null, AdminActor, Now),
            (created.Name, created.Cidr, created.Domain, Assert.Single(created.Dns), created.Mtu, created.Actor, created.At));
        Assert.Equal(201, Status(result));
        Assert.Equal(1, Body<NetworkView>(result).Version);
    }

    [Fact]
    public void a_network_name_is_unique_regardless_of_case_and_ranges_never_overlap()
    {
        Assert.Contains("already exists", Refused(CreateNetwork.Validate(new("TEST-NET", "10.30.0.0/24", null, null, null), [Net]), 409).Detail);
        Assert.Contains("overlaps", Refused(CreateNetwork.Validate(new("other", "10.10.0.128/25", null, null, null), [Net]), 409).Detail);
    }

    [Fact]
    public void an_invalid_network_is_refused_field_by_field()
    {
        Assert.Equal(["cidr", "dns", "mtu", "name"],
            Fields(Refused(CreateNetwork.Validate(new(" x", "10.0.0.0/31", null, ["8.8.8"], 100), []), 400)));
        Refused(CreateNetwork.Validate(null, []), 400);
    }

    [Fact]
    public void updating_a_network_appends_network_updated_one_version_on_and_a_request_that_changes_nothing_is_a_no_op()
    {
        var request = new UpdateNetworkRequest("renamed", "10.10.0.0/24", "mesh.example", null, 1380);
        Accepted(UpdateNetwork.Validate(request, Net, [Net], Net.Id));

        var (result, events) = UpdateNetwork.Patch(request, Net, Admin, Clock);
        Assert.Equal(new NetworkUpdated(Net.Id, "renamed", "mesh.example", [], 1380, AdminActor, Now) with { Dns = Net.Dns },
            Assert.IsType<NetworkUpdated>(Assert.Single(events)) with { Dns = Net.Dns });
        Assert.Equal(("renamed", Net.Version + 1), (Body<NetworkView>(result).Name, Body<NetworkView>(result).Version));

        var (same, none) = UpdateNetwork.Patch(new UpdateNetworkRequest("test-net", null, null, null, null), Net, Admin, Clock);
        Assert.Empty(none);
        Assert.Equal(Net.Version, Body<NetworkView>(same).Version);
    }

    [Fact]
    public void a_network_keeps_its_range_and_cannot_take_another_networks_name()
    {
        var other = TestNetwork.Create() with { Id = Guid.NewGuid(), Name = "other" };
        Assert.Equal(["cidr"], Fields(Refused(UpdateNetwork.Validate(new(null, "10.99.0.0/24", null, null, null), Net, [Net], Net.Id), 400)));
        Refused(UpdateNetwork.Validate(new("OTHER", null, null, null, null), Net, [Net, other], Net.Id), 409);
        Refused(UpdateNetwork.Validate(new("x", null, null, null, null), null, [], Net.Id), 404);
    }

    [Fact]
    public void a_network_with_peers_is_deleted_only_when_forced()
    {
        var withPeer = Net.AddPeer(TestNetwork.PeerId(1), "phone", PeerKind.Dynamic);
        Assert.Contains("force=true", Refused(DeleteNetwork.Validate(withPeer, null, Net.Id), 409).Detail);
        Accepted(DeleteNetwork.Validate(withPeer, true, Net.Id));
        Refused(DeleteNetwork.Validate(null, true, Net.Id), 404);

        var (result, events) = DeleteNetwork.Delete(withPeer, Admin, Clock);
        Assert.Equal(new NetworkDeleted(Net.Id, true, AdminActor, Now), Assert.Single(events));
        Assert.Equal(204, Status(result));
    }

    [Fact]
    public void changing_detection_settings_appends_the_whole_new_setting_and_a_repeat_is_a_no_op()
    {
        var request = new NetworkSecurityRequest(null, TimeSpan.FromMinutes(10), null, null, 50);
        Accepted(ChangeNetworkSecurity.Validate(request, Net, Net.Id));

        var (result, events) = ChangeNetworkSecurity.Put(request, Net, Admin, Clock);
        var changed = Assert.IsType<NetworkSecurityChanged>(Assert.Single(events));
        Assert.Equal((Net.Security.Enabled, TimeSpan.FromMinutes(10), Net.Security.SharedConfigFlips, 50),
            (changed.Enabled, changed.SessionConflictWindow, changed.SharedConfigFlips, changed.MaxEndpointChangesPerDay));
        var after = Body<NetworkSecurity>(result);

        var (_, none) = ChangeNetworkSecurity.Put(request, Net with { Security = after }, Admin, Clock);
        Assert.Empty(none);
    }

    [Fact]
    public void detection_windows_and_counts_are_bounded()
    {
        var problem = Refused(ChangeNetworkSecurity.Validate(
            new NetworkSecurityRequest(true, TimeSpan.FromSeconds(5), 0, TimeSpan.FromDays(2), 1001), Net, Net.Id), 400);
        Assert.Equal(["maxEndpointChangesPerDay", "sessionConflictWindow", "sharedConfigFlips", "sharedConfigWindow"], Fields(problem));
    }
}
