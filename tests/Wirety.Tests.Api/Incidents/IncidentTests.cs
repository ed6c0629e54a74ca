using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Wirety.Events.Incidents;
using Wirety.Events.Peers;
using Wirety.Projections.Incidents;
using Wirety.Server.Incidents;
using Wirety.Tests.Api.Agents;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Incidents;

public sealed class IncidentTests(WiretyApp app) : AgentTest(app)
{
    private async Task<(Guid Net, Enrolled A, Enrolled B)> MeshAsync()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var a = await EnrollAsync(await TokenForAsync(net, "a"));
        var b = await EnrollAsync(await TokenForAsync(net, "b"));
        await HeartbeatAsync(a, 51001, from: "192.0.2.1");
        await HeartbeatAsync(b, 51002, from: "192.0.2.2");
        Assert.Equal(1, (await AgentConfigAsync(b)).GetProperty("peers").GetArrayLength()); // b lists a directly
        return (net, a, b);
    }

    private async Task<JsonElement> OpenIncidentAsync(Guid peerId) =>
        Assert.Single((await BodyAsync(await Admin.GetAsync($"/api/v1/incidents?state=open&peerId={peerId}"))).EnumerateArray());

    [Fact]
    public async Task a_peer_heartbeating_from_two_places_is_blocked_with_a_session_conflict_and_dropped_from_every_config()
    {
        var (net, a, b) = await MeshAsync();
        await HeartbeatAsync(a, 51001, from: "198.51.100.7"); // the thief
        await HeartbeatAsync(a, 51001, from: "192.0.2.1");    // the owner again

        var incident = await OpenIncidentAsync(a.PeerId);
        Assert.Equal("sessionConflict", incident.GetProperty("type").GetString());
        var evidence = incident.GetProperty("evidence").EnumerateArray().ToList();
        Assert.Equal(["192.0.2.1", "198.51.100.7", "192.0.2.1"], evidence.Select(e => e.GetProperty("sourceAddress").GetString()!));
        Assert.All(evidence, e => Assert.Equal(a.SessionToken is not null, e.GetProperty("heartbeatId").GetGuid() != Guid.Empty));

        var peer = await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{net}/peers/{a.PeerId}"));
        Assert.True(peer.GetProperty("blocked").GetBoolean());
        Assert.Empty((await AgentConfigAsync(a)).GetProperty("peers").EnumerateArray());
        Assert.Empty((await AgentConfigAsync(b)).GetProperty("peers").EnumerateArray());

        // Both events, in one transaction: the incident's own stream and the network's block.
        await using var session = App.Store.QuerySession();
        var id = incident.GetProperty("id").GetGuid();
        var detected = Assert.IsType<IncidentDetected>(Assert.Single(await session.Events.FetchStreamAsync(id)).Data);
        var blocked = (await session.Events.FetchStreamAsync(net)).Select(e => e.Data).OfType<PeerBlocked>().Single();
        Assert.Equal("wirety:detection", blocked.Actor.Name);
        Assert.Contains(id.ToString(), blocked.Reason);
        Assert.Equal(detected.At, blocked.At);

        var detail = await BodyAsync(await Admin.GetAsync($"/api/v1/incidents/{id}"));
        Assert.Equal(3, detail.GetProperty("evidence").GetArrayLength());
    }

    [Fact]
    public async Task an_endpoint_flipping_between_addresses_is_a_shared_config_incident()
    {
        var (_, a, _) = await MeshAsync();
        await HeartbeatAsync(a, 51001, ["203.0.113.5:51001"], from: "192.0.2.1");
        await HeartbeatAsync(a, 51001, ["203.0.113.9:51001"], from: "192.0.2.1");
        await HeartbeatAsync(a, 51001, ["203.0.113.5:51001"], from: "192.0.2.1");
        Assert.Equal("sharedConfig", (await OpenIncidentAsync(a.PeerId)).GetProperty("type").GetString());
    }

    [Fact]
    public async Task too_many_endpoint_changes_in_a_day_are_suspicious_and_port_only_changes_are_not()
    {
        var (net, a, _) = await MeshAsync();
        Assert.Equal(HttpStatusCode.OK, (await Admin.PutAsJsonAsync($"/api/v1/networks/{net}/security",
            new { maxEndpointChangesPerDay = 2, sharedConfigFlips = 1000 })).StatusCode);
        // NAT rebinding: same address, new ports.
        foreach (var port in new[] { 40001, 40002, 40003, 40004 })
            await HeartbeatAsync(a, port, from: "192.0.2.1");
        Assert.Empty((await BodyAsync(await Admin.GetAsync($"/api/v1/incidents?peerId={a.PeerId}"))).EnumerateArray());

        foreach (var address in new[] { "203.0.113.1", "203.0.113.2", "203.0.113.3" })
            await HeartbeatAsync(a, 51001, [$"{address}:51001"], from: "192.0.2.1");
        Assert.Equal("suspiciousActivity", (await OpenIncidentAsync(a.PeerId)).GetProperty("type").GetString());
    }

    [Fact]
    public async Task resolving_with_unblock_restores_the_peer_and_resolving_again_is_a_no_op()
    {
        var (net, a, b) = await MeshAsync();
        await HeartbeatAsync(a, 51001, from: "198.51.100.7");
        await HeartbeatAsync(a, 51001, from: "192.0.2.1");
        var id = (await OpenIncidentAsync(a.PeerId)).GetProperty("id").GetGuid();

        await AssertRefusedAsync(() => Admin.PostAsJsonAsync($"/api/v1/incidents/{id}/resolve", new { unblock = true }), 400);
        await AssertRefusedAsync(() => Admin.PostAsJsonAsync($"/api/v1/incidents/{Guid.NewGuid()}/resolve", new { note = "x" }), 404);

        var resolved = await BodyAsync(await Admin.PostAsJsonAsync($"/api/v1/incidents/{id}/resolve",
            new { note = "thief's copy wiped", unblock = true }));
        Assert.Equal("resolved", resolved.GetProperty("state").GetString());
        Assert.Equal("bootstrap-admin", resolved.GetProperty("resolvedBy").GetProperty("name").GetString());
        Assert.True(resolved.GetProperty("unblocked").GetBoolean());
        Assert.False((await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{net}/peers/{a.PeerId}"))).GetProperty("blocked").GetBoolean());
        Assert.Single((await AgentConfigAsync(b)).GetProperty("peers").EnumerateArray());

        var count = await App.EventCountAsync();
        Assert.Equal(HttpStatusCode.OK, (await Admin.PostAsJsonAsync($"/api/v1/incidents/{id}/resolve", new { note = "again", unblock = true })).StatusCode);
        Assert.Equal(count, await App.EventCountAsync());
        Assert.Single((await BodyAsync(await Admin.GetAsync($"/api/v1/incidents?state=resolved&networkId={net}"))).EnumerateArray());
        Assert.Empty((await BodyAsync(await Admin.GetAsync($"/api/v1/incidents?state=open"))).EnumerateArray());
    }

    [Fact]
    public async Task after_resolving_with_unblock_the_resolved_sightings_are_not_evidence_again_and_the_owner_s_endpoint_is_kept()
    {
        var (net, a, b) = await MeshAsync();
        await HeartbeatAsync(a, 51001, from: "198.51.100.7"); // the thief: a's endpoint moves there
        await HeartbeatAsync(a, 51001, from: "192.0.2.1");    // the owner again: detected and blocked
        var id = (await OpenIncidentAsync(a.PeerId)).GetProperty("id").GetGuid();
        var resolved = await BodyAsync(await Admin.PostAsJsonAsync($"/api/v1/incidents/{id}/resolve", new { note = "thief's copy wiped", unblock = true }));
        var resolvedAt = resolved.GetProperty("resolvedAt").GetDateTimeOffset();

        // The sighting that opened the incident also moved the endpoint back: unblocking must not hand out the thief's.
        var listed = Assert.Single((await AgentConfigAsync(b)).GetProperty("peers").EnumerateArray());
        Assert.Equal("192.0.2.1:51001", listed.GetProperty("endpoint").GetString());

        // The owner heartbeats on and is judged afresh (as after a restart or the filter's refresh) with
        // 192.0.2.1, 198.51.100.7, 192.0.2.1 still inside the window: those were resolved, they are not evidence.
        App.Services.GetRequiredService<SightingFilter>().Clear();
        await HeartbeatAsync(a, 51001, from: "192.0.2.1");
        await using (var query = App.Store.QuerySession())
            Assert.Equal(1, (await query.LoadAsync<PeerSightings>(a.PeerId))?.Entries.Count(e => e.At > resolvedAt)); // went through detection
        Assert.Empty((await BodyAsync(await Admin.GetAsync($"/api/v1/incidents?state=open&peerId={a.PeerId}"))).EnumerateArray());
        Assert.False((await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{net}/peers/{a.PeerId}"))).GetProperty("blocked").GetBoolean());

        // A copy that is still out there shows up again with new sightings only.
        await HeartbeatAsync(a, 51001, from: "198.51.100.7");
        await HeartbeatAsync(a, 51001, from: "192.0.2.1");
        var again = await OpenIncidentAsync(a.PeerId);
        Assert.NotEqual(id, again.GetProperty("id").GetGuid());
        Assert.All(again.GetProperty("evidence").EnumerateArray(), e => Assert.True(e.GetProperty("at").GetDateTimeOffset() > resolvedAt));
    }

    [Fact]
    public async Task an_open_incident_of_the_same_type_is_not_opened_twice()
    {
        var (net, a, _) = await MeshAsync();
        await HeartbeatAsync(a, 51001, from: "198.51.100.7");
        await HeartbeatAsync(a, 51001, from: "192.0.2.1");
        await OpenIncidentAsync(a.PeerId);
        // An admin unblocks without resolving; the copies keep alternating.
        await Admin.PostAsync($"/api/v1/networks/{net}/peers/{a.PeerId}/unblock", null);
        await HeartbeatAsync(a, 51001, from: "198.51.100.7");
        await HeartbeatAsync(a, 51001, from: "192.0.2.1");
        await HeartbeatAsync(a, 51001, from: "198.51.100.7");
        Assert.Single((await BodyAsync(await Admin.GetAsync($"/api/v1/incidents?peerId={a.PeerId}"))).EnumerateArray());
    }

    [Fact]
    public async Task detection_can_be_turned_off_per_network()
    {
        var (net, a, _) = await MeshAsync();
        await Admin.PutAsJsonAsync($"/api/v1/networks/{net}/security", new { enabled = false });
        async Task EndpointChangesAsync(int count)
        {
            await using var session = App.Store.QuerySession();
            Assert.Equal(count, (await session.Events.FetchStreamAsync(net)).Select(e => e.Data).OfType<EndpointChanged>().Count());
        }
        await HeartbeatAsync(a, 51001, from: "198.51.100.7");
        await EndpointChangesAsync(3);
        await HeartbeatAsync(a, 51001, from: "192.0.2.1");
        // The sightings were processed (the endpoint moved back), yet no incident opened.
        await EndpointChangesAsync(4);
        Assert.Empty((await BodyAsync(await Admin.GetAsync($"/api/v1/incidents?peerId={a.PeerId}"))).EnumerateArray());
    }

    [Fact]
    public async Task security_settings_are_validated_and_each_change_is_an_event()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var defaults = await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{net}/security"));
        Assert.True(defaults.GetProperty("enabled").GetBoolean());
        Assert.Equal("00:05:00", defaults.GetProperty("sessionConflictWindow").GetString());
        Assert.Equal(2, defaults.GetProperty("sharedConfigFlips").GetInt32());
        Assert.Equal(10, defaults.GetProperty("maxEndpointChangesPerDay").GetInt32());

        await AssertRefusedAsync(() => Admin.PutAsJsonAsync($"/api/v1/networks/{net}/security", new { sessionConflictWindow = "00:00:30" }), 400);
        await AssertRefusedAsync(() => Admin.PutAsJsonAsync($"/api/v1/networks/{net}/security", new { sharedConfigWindow = "2.00:00:00" }), 400);
        await AssertRefusedAsync(() => Admin.PutAsJsonAsync($"/api/v1/networks/{net}/security", new { sharedConfigFlips = 0 }), 400);
        await AssertRefusedAsync(() => Admin.PutAsJsonAsync($"/api/v1/networks/{net}/security", new { maxEndpointChangesPerDay = 1001 }), 400);
        await AssertRefusedAsync(() => Admin.PutAsJsonAsync($"/api/v1/networks/{net}/security", new { sharedConfigFlips = "many" }), 400);
        await AssertRefusedAsync(() => Admin.PutAsJsonAsync($"/api/v1/networks/{Guid.NewGuid()}/security", new { enabled = false }), 404);

        var updated = await BodyAsync(await Admin.PutAsJsonAsync($"/api/v1/networks/{net}/security",
            new { sessionConflictWindow = "00:10:00", sharedConfigFlips = 3 }));
        Assert.Equal("00:10:00", updated.GetProperty("sessionConflictWindow").GetString());
        Assert.Equal(3, updated.GetProperty("sharedConfigFlips").GetInt32());
        var types = (await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{net}/events"))).EnumerateArray()
            .Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.Equal("NetworkSecurityChanged", types[^1]);
    }

    [Fact]
    public async Task incident_queries_validate_their_filters()
    {
        await AssertRefusedAsync(() => Admin.GetAsync("/api/v1/incidents?state=maybe"), 400);
        await AssertRefusedAsync(() => Admin.GetAsync("/api/v1/incidents?networkId=not-a-guid"), 400);
        await AssertRefusedAsync(() => Admin.GetAsync($"/api/v1/incidents/{Guid.NewGuid()}"), 404);
    }
}
