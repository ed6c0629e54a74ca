using System.Net;
using System.Net.Http.Json;
using Wirety.Events;
using Wirety.Events.Peers;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Routes;

public sealed class RouteTests(WiretyApp app) : SegmentationTest(app)
{
    [Fact]
    public async Task a_route_can_be_added_read_listed_and_removed()
    {
        var mesh = await MeshAsync();
        var ops = await GroupAsync(mesh, "ops", mesh.Laptop);
        var created = await Admin.PostAsJsonAsync($"{mesh.Url}/routes", new { cidr = "192.168.50.0/24", via = mesh.Server, groups = new[] { ops, ops } });
        var route = await OkAsync(created, HttpStatusCode.Created);
        var id = route.GetProperty("id").GetGuid();
        Assert.Equal($"{mesh.Url}/routes/{id}", created.Headers.Location?.ToString());
        Assert.Equal(("192.168.50.0/24", mesh.Server, "server", false, mesh.Net),
            (route.GetProperty("cidr").GetString(), route.GetProperty("via").GetProperty("id").GetGuid(), route.GetProperty("via").GetProperty("name").GetString(),
                route.GetProperty("exitNode").GetBoolean(), route.GetProperty("networkId").GetGuid()));
        Assert.Equal(["ops"], Names(route.GetProperty("groups")));

        Assert.Equal(route.ToString(), (await OkAsync(await Admin.GetAsync($"{mesh.Url}/routes/{id}"))).ToString());
        Assert.Single((await OkAsync(await Admin.GetAsync($"{mesh.Url}/routes"))).EnumerateArray());
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"{mesh.Url}/routes/{id}")).StatusCode);
        await AssertProblemAsync(await Admin.GetAsync($"{mesh.Url}/routes/{id}"), 404);
        Assert.Empty((await OkAsync(await Admin.GetAsync($"{mesh.Url}/routes"))).EnumerateArray());
    }

    [Fact]
    public async Task the_default_route_makes_an_exit_node_of_a_non_jump_peer_only()
    {
        var mesh = await MeshAsync();
        var exit = await OkAsync(await Admin.PostAsJsonAsync($"{mesh.Url}/routes", new { cidr = "0.0.0.0/0", via = mesh.Db }), HttpStatusCode.Created);
        Assert.True(exit.GetProperty("exitNode").GetBoolean());
        Assert.Empty(exit.GetProperty("groups").EnumerateArray());

        var problem = await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsJsonAsync($"{mesh.Url}/routes", new { cidr = "0.0.0.0/0", via = mesh.Jump }), 400);
        Assert.Contains("fullEncapsulation", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("10.10.0.0/16", "own range")]
    [InlineData("10.10.0.128/25", "own range")]
    [InlineData("10.10.0.7/32", "own range")]
    [InlineData("198.18.0.0/24", "endpoint of peer 'jump'")]
    [InlineData("198.18.0.4/32", "endpoint of peer 'db'")]
    [InlineData("203.0.113.0/24", "address of this server")]
    [InlineData("203.0.0.0/8", "address of this server")]
    public async Task a_route_may_not_cover_the_network_an_endpoint_or_the_server(string cidr, string reason)
    {
        var mesh = await MeshAsync();
        var problem = await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsJsonAsync($"{mesh.Url}/routes", new { cidr, via = mesh.Server }), 400);
        Assert.Contains(reason, problem.GetProperty("errors").GetProperty("cidr")[0].GetString());
    }

    [Fact]
    public async Task a_route_may_not_cover_the_address_the_request_arrived_on()
    {
        var mesh = await MeshAsync();
        HttpRequestMessage Request()
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"{mesh.Url}/routes") { Content = JsonContent.Create(new { cidr = "192.0.2.0/24", via = mesh.Server }) };
            request.Headers.Add(TestLocalAddress.Header, "::ffff:192.0.2.55");
            return request;
        }
        var problem = await AssertRefusedOnAsync(mesh.Net, () => Admin.SendAsync(Request()), 400);
        Assert.Contains("192.0.2.55", problem.GetProperty("detail").GetString());
        // Through another address of the server, the same route is fine.
        await OkAsync(await Admin.PostAsJsonAsync($"{mesh.Url}/routes", new { cidr = "192.0.2.0/24", via = mesh.Server }), HttpStatusCode.Created);
    }

    [Theory]
    [InlineData("192.168.50.1/24", "did you mean 192.168.50.0/24")]
    [InlineData("192.168.50.0", "not a CIDR")]
    [InlineData("fd00::/64", "not an IPv4 address")]
    [InlineData("banana", "not a CIDR")]
    [InlineData("192.168.050.0/24", "not an IPv4 address")]
    [InlineData("192.168.50.0/33", "invalid prefix length")]
    [InlineData("", "empty")]
    public async Task a_malformed_cidr_is_refused_with_a_clear_reason(string cidr, string reason)
    {
        var mesh = await MeshAsync();
        var problem = await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsJsonAsync($"{mesh.Url}/routes", new { cidr, via = mesh.Server }), 400);
        Assert.Contains(reason, problem.GetProperty("errors").GetProperty("cidr")[0].GetString());
    }

    [Fact]
    public async Task the_same_subnet_twice_via_one_peer_is_a_conflict_but_via_another_peer_is_a_second_route()
    {
        var mesh = await MeshAsync();
        await OkAsync(await Admin.PostAsJsonAsync($"{mesh.Url}/routes", new { cidr = "192.168.50.0/24", via = mesh.Server }), HttpStatusCode.Created);
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsJsonAsync($"{mesh.Url}/routes", new { cidr = "192.168.50.0/24", via = mesh.Server }), 409);
        await OkAsync(await Admin.PostAsJsonAsync($"{mesh.Url}/routes", new { cidr = "192.168.50.0/24", via = mesh.Db }), HttpStatusCode.Created);
    }

    [Fact]
    public async Task via_and_groups_must_be_of_this_network()
    {
        var mesh = await MeshAsync();
        var other = (await CreateNetworkAsync("lab", "10.20.0.0/24")).GetProperty("id").GetGuid();
        var stranger = (await CreatePeerAsync(other, new { name = "stranger", kind = "dynamic" })).GetProperty("id").GetGuid();
        foreach (var via in new[] { stranger, Guid.Empty, Guid.NewGuid() })
            Assert.True((await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsJsonAsync($"{mesh.Url}/routes", new { cidr = "192.168.50.0/24", via }), 400))
                .GetProperty("errors").TryGetProperty("via", out _));
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsJsonAsync($"{mesh.Url}/routes", new { cidr = "192.168.50.0/24" }), 400);
        var ghost = Guid.NewGuid();
        var problem = await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsJsonAsync($"{mesh.Url}/routes",
            new { cidr = "192.168.50.0/24", via = mesh.Server, groups = new[] { ghost, Guid.Empty } }), 400);
        Assert.Contains(ghost.ToString(), problem.GetProperty("errors").GetProperty("groups")[0].GetString());
    }

    [Theory]
    [InlineData("null")]
    [InlineData("{}")]
    [InlineData("[]")]
    [InlineData("{\"cidr\":5,\"via\":\"x\"}")]
    [InlineData("{\"cidr\":\"192.168.50.0/24\",\"via\":\"not-a-guid\"}")]
    [InlineData("{\"cidr\":\"192.168.50.0/24\",\"via\":null}")]
    [InlineData("{\"cidr\":\"192.168.50.0/24\",\"groups\":\"all\"}")]
    [InlineData("{\"cidr\":")]
    public async Task a_garbage_route_body_is_a_400(string body)
    {
        var mesh = await MeshAsync();
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsync($"{mesh.Url}/routes", Raw(body)), 400);
    }

    [Fact]
    public async Task unknown_and_nil_ids_answer_404_in_every_id_position()
    {
        var mesh = await MeshAsync();
        var route = (await OkAsync(await Admin.PostAsJsonAsync($"{mesh.Url}/routes", new { cidr = "192.168.50.0/24", via = mesh.Server }), HttpStatusCode.Created))
            .GetProperty("id").GetGuid();
        foreach (var net in new[] { Guid.Empty, Guid.NewGuid() })
        {
            await AssertProblemAsync(await Admin.GetAsync($"/api/v1/networks/{net}/routes"), 404);
            await AssertRefusedAsync(() => Admin.PostAsJsonAsync($"/api/v1/networks/{net}/routes", new { cidr = "192.168.60.0/24", via = mesh.Server }), 404);
            await AssertProblemAsync(await Admin.GetAsync($"/api/v1/networks/{net}/routes/{route}"), 404);
            await AssertRefusedAsync(() => Admin.DeleteAsync($"/api/v1/networks/{net}/routes/{route}"), 404);
        }
        foreach (var id in new[] { Guid.Empty, Guid.NewGuid() })
        {
            await AssertProblemAsync(await Admin.GetAsync($"{mesh.Url}/routes/{id}"), 404);
            await AssertRefusedOnAsync(mesh.Net, () => Admin.DeleteAsync($"{mesh.Url}/routes/{id}"), 404);
        }
    }

    [Fact]
    public async Task removing_the_via_peer_removes_its_routes()
    {
        var mesh = await MeshAsync();
        await OkAsync(await Admin.PostAsJsonAsync($"{mesh.Url}/routes", new { cidr = "192.168.50.0/24", via = mesh.Server }), HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"{mesh.Url}/peers/{mesh.Server}")).StatusCode);
        Assert.Empty((await OkAsync(await Admin.GetAsync($"{mesh.Url}/routes"))).EnumerateArray());
    }

    [Theory]
    [InlineData("203.0.0.0/8", "address of this server")]
    [InlineData("198.18.0.0/16", "endpoint of peer 'jump'")]
    [InlineData("203.0.113.10/32", "address of this server")]
    public async Task additional_allowed_ips_may_not_cover_an_endpoint_or_the_server_either(string prefix, string reason)
    {
        var mesh = await MeshAsync();
        var problem = await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsJsonAsync($"{mesh.Url}/peers",
            new { name = "router", kind = "dynamic", additionalAllowedIps = new[] { prefix } }), 400);
        Assert.Contains(reason, problem.GetProperty("errors").GetProperty("additionalAllowedIps")[0].GetString());
        problem = await AssertRefusedOnAsync(mesh.Net, () => Admin.PatchAsJsonAsync($"{mesh.Url}/peers/{mesh.Laptop}",
            new { additionalAllowedIps = new[] { "192.168.70.0/24", prefix } }), 400);
        Assert.Contains(reason, problem.GetProperty("errors").GetProperty("additionalAllowedIps")[0].GetString());
    }

    [Fact]
    public async Task a_stored_additional_allowed_ip_that_predates_the_cover_rules_stays_readable_and_editable()
    {
        var mesh = await MeshAsync();
        // As an older server let it through: a route behind the laptop that covers the server's address.
        await using (var session = App.Store.LightweightSession())
        {
            session.Events.Append(mesh.Net, new PeerUpdated(mesh.Net, mesh.Laptop, "laptop", null, null, false, false, ["203.0.113.0/24"],
                Actor.System, App.Clock.GetUtcNow()));
            await session.SaveChangesAsync();
        }
        var laptop = await OkAsync(await Admin.GetAsync($"{mesh.Url}/peers/{mesh.Laptop}"));
        Assert.Equal(["203.0.113.0/24"], laptop.GetProperty("additionalAllowedIps").EnumerateArray().Select(p => p.GetString()!));
        Assert.Equal(HttpStatusCode.OK, (await Admin.GetAsync($"{mesh.Url}/peers/{mesh.Laptop}/config")).StatusCode);
        await OkAsync(await Admin.PatchAsJsonAsync($"{mesh.Url}/peers/{mesh.Laptop}", new { name = "notebook" }));
        await OkAsync(await Admin.PatchAsJsonAsync($"{mesh.Url}/peers/{mesh.Laptop}", new { additionalAllowedIps = new[] { "203.0.113.0/24", "192.168.70.0/24" } }));
        // A new prefix of the same kind is still refused.
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PatchAsJsonAsync($"{mesh.Url}/peers/{mesh.Laptop}",
            new { additionalAllowedIps = new[] { "203.0.113.0/24", "203.0.112.0/24", "128.0.0.0/1" } }), 400);
    }
}
