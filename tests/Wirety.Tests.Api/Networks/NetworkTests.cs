using System.Net;
using System.Net.Http.Json;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Networks;

public sealed class NetworkTests(WiretyApp app) : ApiTest(app)
{
    [Fact]
    public async Task a_created_network_can_be_read_listed_updated_and_deleted()
    {
        var created = await CreateNetworkAsync("corp", "10.20.0.0/16", new { domain = "corp.internal", dns = new[] { "10.20.0.1" } });
        var id = created.GetProperty("id").GetGuid();
        Assert.Equal("10.20.0.0/16", created.GetProperty("cidr").GetString());
        Assert.Equal(65534, created.GetProperty("ipam").GetProperty("total").GetInt64());

        var fetched = await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{id}"));
        Assert.Equal("corp.internal", fetched.GetProperty("domain").GetString());
        var list = await BodyAsync(await Admin.GetAsync("/api/v1/networks"));
        Assert.Single(list.EnumerateArray());

        var patched = await Admin.PatchAsJsonAsync($"/api/v1/networks/{id}", new { name = "corp-eu", mtu = 1420 });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var body = await BodyAsync(patched);
        Assert.Equal("corp-eu", body.GetProperty("name").GetString());
        Assert.Equal(1420, body.GetProperty("mtu").GetInt32());
        Assert.Equal("corp.internal", body.GetProperty("domain").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"/api/v1/networks/{id}")).StatusCode);
        await AssertProblemAsync(await Admin.GetAsync($"/api/v1/networks/{id}"), 404);
        // The history outlives the network.
        var events = await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{id}/events"));
        Assert.Equal(["NetworkCreated", "NetworkUpdated", "NetworkDeleted"],
            events.EnumerateArray().Select(e => e.GetProperty("type").GetString()!).ToArray());
    }

    [Theory]
    [InlineData("10.0.0.0", "cidr")]
    [InlineData("10.0.0.1/24", "cidr")]
    [InlineData("10.0.0.0/31", "cidr")]
    [InlineData("10.0.0.0/7", "cidr")]
    [InlineData("300.0.0.0/24", "cidr")]
    [InlineData("fd00::/64", "cidr")]
    [InlineData("banana", "cidr")]
    public async Task malformed_cidrs_are_refused_with_a_field_error(string cidr, string field)
    {
        var problem = await AssertRefusedAsync(() => Admin.PostAsJsonAsync("/api/v1/networks", new { name = "n", cidr }), 400);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task invalid_names_domains_dns_and_mtu_are_refused()
    {
        await AssertRefusedAsync(() => Admin.PostAsJsonAsync("/api/v1/networks", new { cidr = "10.1.0.0/24" }), 400);
        await AssertRefusedAsync(() => Admin.PostAsJsonAsync("/api/v1/networks", new { name = "-bad", cidr = "10.1.0.0/24" }), 400);
        await AssertRefusedAsync(() => Admin.PostAsJsonAsync("/api/v1/networks", new { name = "ok", cidr = "10.1.0.0/24", domain = "not a domain" }), 400);
        await AssertRefusedAsync(() => Admin.PostAsJsonAsync("/api/v1/networks", new { name = "ok", cidr = "10.1.0.0/24", dns = new[] { "8.8.8" } }), 400);
        await AssertRefusedAsync(() => Admin.PostAsJsonAsync("/api/v1/networks", new { name = "ok", cidr = "10.1.0.0/24", mtu = 100 }), 400);
        await AssertRefusedAsync(() => Admin.PostAsync("/api/v1/networks", new StringContent("[1,2", System.Text.Encoding.UTF8, "application/json")), 400);
        await AssertRefusedAsync(() => Admin.PostAsync("/api/v1/networks", new StringContent("null", System.Text.Encoding.UTF8, "application/json")), 400);
    }

    [Fact]
    public async Task overlapping_cidrs_and_duplicate_names_conflict()
    {
        await CreateNetworkAsync("corp", "10.10.0.0/16");
        await AssertRefusedAsync(() => Admin.PostAsJsonAsync("/api/v1/networks", new { name = "other", cidr = "10.10.5.0/24" }), 409);
        await AssertRefusedAsync(() => Admin.PostAsJsonAsync("/api/v1/networks", new { name = "other", cidr = "10.0.0.0/8" }), 409);
        await AssertRefusedAsync(() => Admin.PostAsJsonAsync("/api/v1/networks", new { name = "CORP", cidr = "10.11.0.0/16" }), 409);
    }

    [Fact]
    public async Task the_cidr_cannot_be_patched_and_unknown_networks_are_404()
    {
        var id = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        await AssertRefusedAsync(() => Admin.PatchAsJsonAsync($"/api/v1/networks/{id}", new { cidr = "10.99.0.0/24" }), 400);
        var unknown = Guid.NewGuid();
        await AssertRefusedAsync(() => Admin.GetAsync($"/api/v1/networks/{unknown}"), 404);
        await AssertRefusedAsync(() => Admin.PatchAsJsonAsync($"/api/v1/networks/{unknown}", new { name = "x" }), 404);
        await AssertRefusedAsync(() => Admin.DeleteAsync($"/api/v1/networks/{unknown}"), 404);
        await AssertRefusedAsync(() => Admin.GetAsync($"/api/v1/networks/{unknown}/events"), 404);
        await AssertRefusedAsync(() => Admin.GetAsync("/api/v1/networks/not-a-guid"), 404);
    }

    [Fact]
    public async Task deleting_a_network_with_peers_needs_force()
    {
        var id = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        await CreatePeerAsync(id, new { name = "laptop", kind = "dynamic" });
        var problem = await AssertRefusedAsync(() => Admin.DeleteAsync($"/api/v1/networks/{id}"), 409);
        Assert.Contains("force", problem.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"/api/v1/networks/{id}?force=true")).StatusCode);
        // Name and range are free again.
        await CreateNetworkAsync();
    }

    [Fact]
    public async Task every_change_is_an_event_with_the_acting_token()
    {
        var id = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        await CreatePeerAsync(id, new { name = "laptop", kind = "dynamic" });
        var events = (await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{id}/events"))).EnumerateArray().ToList();
        Assert.Equal(["NetworkCreated", "PeerAdded", "EnrollmentTokenIssued"], events.Select(e => e.GetProperty("type").GetString()!));
        Assert.All(events, e => Assert.Equal("bootstrap-admin", e.GetProperty("actor").GetProperty("name").GetString()));
        Assert.Equal([1L, 2L, 3L], events.Select(e => e.GetProperty("version").GetInt64()));
        Assert.Equal("laptop", events[1].GetProperty("data").GetProperty("name").GetString());
    }
}
