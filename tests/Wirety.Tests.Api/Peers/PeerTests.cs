using System.Net;
using System.Net.Http.Json;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Peers;

public sealed class PeerTests(WiretyApp app) : ApiTest(app)
{
    [Fact]
    public async Task peers_get_the_lowest_free_address_and_deleting_one_releases_it()
    {
        var net = (await CreateNetworkAsync("corp", "10.10.0.0/24")).GetProperty("id").GetGuid();
        var jump = await CreatePeerAsync(net, new { name = "hub", kind = "jump", endpoint = "vpn.example.com:51820", listenPort = 51820 });
        var a = await CreatePeerAsync(net, new { name = "a", kind = "dynamic" });
        var b = await CreatePeerAsync(net, new { name = "b", kind = "dynamic" });
        Assert.Equal(["10.10.0.1", "10.10.0.2", "10.10.0.3"], new[] { jump, a, b }.Select(p => p.GetProperty("address").GetString()!));

        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"/api/v1/networks/{net}/peers/{a.GetProperty("id")}")).StatusCode);
        var c = await CreatePeerAsync(net, new { name = "c", kind = "dynamic" });
        Assert.Equal("10.10.0.2", c.GetProperty("address").GetString());

        var ipam = await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{net}/ipam"));
        Assert.Equal(254, ipam.GetProperty("total").GetInt64());
        Assert.Equal(3, ipam.GetProperty("used").GetInt64());
        Assert.Equal(251, ipam.GetProperty("free").GetInt64());
        Assert.Equal(["10.10.0.1", "10.10.0.2", "10.10.0.3"],
            ipam.GetProperty("allocations").EnumerateArray().Select(x => x.GetProperty("address").GetString()!));
    }

    [Fact]
    public async Task a_dynamic_peer_gets_a_one_time_enrollment_token_and_a_static_peer_a_complete_config()
    {
        var net = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        await CreatePeerAsync(net, new { name = "hub", kind = "jump", endpoint = "203.0.113.10:51820" });
        var dynamicPeer = await CreatePeerAsync(net, new { name = "laptop", kind = "dynamic" });
        Assert.StartsWith("wirety_enroll_", dynamicPeer.GetProperty("enrollmentToken").GetString());
        Assert.False(dynamicPeer.TryGetProperty("config", out _));

        var staticPeer = await CreatePeerAsync(net, new { name = "phone", kind = "static" });
        var config = staticPeer.GetProperty("config").GetString()!;
        Assert.Matches(@"(?m)^PrivateKey = [A-Za-z0-9+/]{43}=$", config);
        Assert.Contains("Address = 10.10.0.3/32", config);
        Assert.False(staticPeer.TryGetProperty("enrollmentToken", out _));
        Assert.Equal(44, staticPeer.GetProperty("publicKey").GetString()!.Length);

        // Later reads never carry the secrets again.
        var again = await (await Admin.GetAsync($"/api/v1/networks/{net}/peers/{staticPeer.GetProperty("id")}")).Content.ReadAsStringAsync();
        Assert.DoesNotContain("PrivateKey", again);
        var list = await (await Admin.GetAsync($"/api/v1/networks/{net}/peers")).Content.ReadAsStringAsync();
        Assert.DoesNotContain("enrollmentToken", list);
    }

    [Theory]
    [InlineData("{\"name\":\"Bad_Name\",\"kind\":\"dynamic\"}", "name")]
    [InlineData("{\"name\":\"-x\",\"kind\":\"dynamic\"}", "name")]
    [InlineData("{\"kind\":\"dynamic\"}", "name")]
    [InlineData("{\"name\":\"x\",\"kind\":\"laptop\"}", "kind")]
    [InlineData("{\"name\":\"x\"}", "kind")]
    [InlineData("{\"name\":\"x\",\"kind\":\"jump\"}", "endpoint")]
    [InlineData("{\"name\":\"x\",\"kind\":\"jump\",\"endpoint\":\"nohost\"}", "endpoint")]
    [InlineData("{\"name\":\"x\",\"kind\":\"jump\",\"endpoint\":\"h.example:99999\"}", "endpoint")]
    [InlineData("{\"name\":\"x\",\"kind\":\"jump\",\"endpoint\":\"h.example:51820\",\"isolated\":true}", "kind")]
    [InlineData("{\"name\":\"x\",\"kind\":\"dynamic\",\"listenPort\":70000}", "listenPort")]
    [InlineData("{\"name\":\"x\",\"kind\":\"dynamic\",\"additionalAllowedIps\":[\"192.168.1.0/33\"]}", "additionalAllowedIps")]
    [InlineData("{\"name\":\"x\",\"kind\":\"dynamic\",\"additionalAllowedIps\":[\"192.168.1.1/24\"]}", "additionalAllowedIps")]
    [InlineData("{\"name\":\"x\",\"kind\":\"dynamic\",\"additionalAllowedIps\":[\"0.0.0.0/0\"]}", "additionalAllowedIps")]
    [InlineData("{\"name\":\"x\",\"kind\":\"dynamic\",\"additionalAllowedIps\":[\"10.10.0.0/25\"]}", "additionalAllowedIps")]
    [InlineData("{\"name\":\"x\",\"kind\":\"dynamic\",\"address\":\"10.99.0.5\"}", "address")]
    [InlineData("{\"name\":\"x\",\"kind\":\"dynamic\",\"address\":\"10.10.0.0\"}", "address")]
    [InlineData("{\"name\":\"x\",\"kind\":\"dynamic\",\"address\":\"10.10.0.255\"}", "address")]
    [InlineData("{\"name\":\"x\",\"kind\":\"dynamic\",\"address\":\"ten\"}", "address")]
    public async Task bad_peer_input_is_refused_with_a_field_error(string json, string field)
    {
        var net = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        var problem = await AssertRefusedAsync(() => Admin.PostAsync($"/api/v1/networks/{net}/peers",
            new StringContent(json, System.Text.Encoding.UTF8, "application/json")), 400);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task duplicate_names_taken_addresses_and_unknown_ids_are_refused()
    {
        var net = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        var peer = await CreatePeerAsync(net, new { name = "laptop", kind = "dynamic", address = "10.10.0.50", additionalAllowedIps = new[] { "192.168.7.0/24" } });
        Assert.Equal("10.10.0.50", peer.GetProperty("address").GetString());
        await AssertRefusedAsync(() => Admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers", new { name = "laptop", kind = "static" }), 409);
        await AssertRefusedAsync(() => Admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers", new { name = "other", kind = "static", address = "10.10.0.50" }), 400);
        await AssertRefusedAsync(() => Admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers",
            new { name = "other", kind = "dynamic", additionalAllowedIps = new[] { "192.168.7.128/25" } }), 400);
        await AssertRefusedAsync(() => Admin.PostAsJsonAsync($"/api/v1/networks/{Guid.NewGuid()}/peers", new { name = "x", kind = "static" }), 404);
        await AssertRefusedAsync(() => Admin.GetAsync($"/api/v1/networks/{net}/peers/{Guid.NewGuid()}"), 404);
        await AssertRefusedAsync(() => Admin.DeleteAsync($"/api/v1/networks/{net}/peers/{Guid.NewGuid()}"), 404);
        await AssertRefusedAsync(() => Admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers/{Guid.NewGuid()}/block", new { reason = "x" }), 404);
    }

    [Fact]
    public async Task a_full_network_refuses_another_peer_with_409()
    {
        var net = (await CreateNetworkAsync("tiny", "10.30.0.0/30")).GetProperty("id").GetGuid();
        await CreatePeerAsync(net, new { name = "a", kind = "static" });
        await CreatePeerAsync(net, new { name = "b", kind = "static" });
        var problem = await AssertRefusedAsync(() => Admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers", new { name = "c", kind = "static" }), 409);
        Assert.Contains("full", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task fifty_concurrent_creations_get_fifty_distinct_addresses()
    {
        var net = (await CreateNetworkAsync("busy", "10.40.0.0/24")).GetProperty("id").GetGuid();
        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            Admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers", new { name = $"peer-{i}", kind = i % 2 == 0 ? "dynamic" : "static" })));
        foreach (var r in responses) Assert.True(r.StatusCode == HttpStatusCode.Created, await r.Content.ReadAsStringAsync());
        var addresses = await Task.WhenAll(responses.Select(async r => (await BodyAsync(r)).GetProperty("address").GetString()));
        Assert.Equal(50, addresses.Distinct().Count());
        var ipam = await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{net}/ipam"));
        Assert.Equal(50, ipam.GetProperty("used").GetInt64());
    }

    [Fact]
    public async Task peers_can_be_patched_and_kind_or_address_changes_are_refused()
    {
        var net = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        var id = (await CreatePeerAsync(net, new { name = "laptop", kind = "dynamic" })).GetProperty("id").GetGuid();
        var patched = await BodyAsync(await Admin.PatchAsJsonAsync($"/api/v1/networks/{net}/peers/{id}",
            new { name = "laptop2", isolated = true, additionalAllowedIps = new[] { "192.168.50.0/24" } }));
        Assert.Equal("laptop2", patched.GetProperty("name").GetString());
        Assert.True(patched.GetProperty("isolated").GetBoolean());
        await AssertRefusedAsync(() => Admin.PatchAsJsonAsync($"/api/v1/networks/{net}/peers/{id}", new { kind = "static" }), 400);
        await AssertRefusedAsync(() => Admin.PatchAsJsonAsync($"/api/v1/networks/{net}/peers/{id}", new { address = "10.10.0.9" }), 400);
        await AssertRefusedAsync(() => Admin.PatchAsJsonAsync($"/api/v1/networks/{net}/peers/{id}", new { name = "No Way" }), 400);
    }

    [Fact]
    public async Task blocking_and_unblocking_are_recorded_and_repeats_are_no_ops()
    {
        var net = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        var id = (await CreatePeerAsync(net, new { name = "laptop", kind = "dynamic" })).GetProperty("id").GetGuid();
        await AssertRefusedAsync(() => Admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers/{id}/block", new { reason = "" }), 400);

        var blocked = await BodyAsync(await Admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers/{id}/block", new { reason = "lost laptop" }));
        Assert.True(blocked.GetProperty("blocked").GetBoolean());
        Assert.Equal("lost laptop", blocked.GetProperty("blockReason").GetString());
        var count = await App.EventCountAsync();
        await Admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers/{id}/block", new { reason = "again" });
        Assert.Equal(count, await App.EventCountAsync());

        var unblocked = await BodyAsync(await Admin.PostAsync($"/api/v1/networks/{net}/peers/{id}/unblock", null));
        Assert.False(unblocked.GetProperty("blocked").GetBoolean());
        var types = (await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{net}/events"))).EnumerateArray()
            .Select(e => e.GetProperty("type").GetString()!).ToList();
        Assert.Equal(["NetworkCreated", "PeerAdded", "EnrollmentTokenIssued", "PeerBlocked", "PeerUnblocked"], types);
    }
}
