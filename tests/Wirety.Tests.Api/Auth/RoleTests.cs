using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Wirety.Server.Auth;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Auth;

public sealed class RoleTests(WiretyApp app) : ApiTest(app)
{
    /// <summary>Every mapped endpoint as "METHOD /route" ("*" for the WebSockets, mapped for every method).</summary>
    private IReadOnlyList<(string Key, Endpoint Endpoint)> MappedEndpoints() =>
        App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => ((e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods is { Count: > 0 } m ? m[0] : "*") + " " + e.RoutePattern.RawText,
                (Endpoint)e))
            .ToList();

    [Fact]
    public void every_mapped_endpoint_carries_exactly_one_rule_on_itself()
    {
        var mapped = MappedEndpoints();
        Assert.True(mapped.Count > 30, $"only {mapped.Count} endpoints found");
        Assert.All(mapped, m => Assert.True(m.Endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods is null or { Count: 1 },
            $"{m.Key} answers several methods; give each its own endpoint and rule"));
        foreach (var (key, endpoint) in mapped)
        {
            var rules = new[]
            {
                endpoint.Metadata.GetOrderedMetadata<RequiresRoleAttribute>().Count > 0 ? "[RequiresRole]" : null,
                endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null ? "anonymous" : null,
                endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy == AgentSessionAuthentication.Policy) ? "agent session" : null,
            }.OfType<string>().ToList();
            Assert.True(rules.Count == 1, $"{key} must carry exactly one rule ([RequiresRole(...)], [AllowAnonymous] or the agent policy), "
                + $"but carries: {(rules.Count == 0 ? "none" : string.Join(", ", rules))}");
            Assert.True(endpoint.Metadata.GetOrderedMetadata<RequiresRoleAttribute>().Count <= 1, $"{key} carries several [RequiresRole]");
        }
    }

    private async Task<HttpClient> ClientWithRoleAsync(string role)
    {
        var response = await Admin.PostAsJsonAsync("/api/v1/tokens", new { name = role + "-token", role });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await BodyAsync(response);
        Assert.Equal(role, body.GetProperty("role").GetString());
        return App.Client(body.GetProperty("token").GetString());
    }

    [Theory]
    [InlineData("admin")]
    [InlineData("analyst")]
    [InlineData("viewer")]
    public async Task every_api_token_endpoint_is_forbidden_exactly_when_its_rule_says_so(string role)
    {
        var client = await ClientWithRoleAsync(role);
        var expectedRole = Enum.Parse<Wirety.Events.Tokens.ApiTokenRole>(role, ignoreCase: true);
        var net = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        var peer = (await CreatePeerAsync(net, new { name = "phone", kind = "static" })).GetProperty("id").GetGuid();
        var rules = MappedEndpoints()
            .Select(m => (m.Key, Rule: m.Endpoint.Metadata.GetMetadata<RequiresRoleAttribute>()))
            .Where(m => m.Rule is not null).ToList();
        Assert.Contains(rules, r => r.Rule!.Role == Wirety.Events.Tokens.ApiTokenRole.Viewer);
        Assert.Contains(rules, r => r.Rule!.Role == Wirety.Events.Tokens.ApiTokenRole.Analyst);
        Assert.Contains(rules, r => r.Rule!.Role == Wirety.Events.Tokens.ApiTokenRole.Admin);
        // The segmentation endpoints are in the matrix: reads for every role, writes and the preview for admins.
        foreach (var (route, least) in new[]
                 {
                     ("GET /api/v1/networks/{networkId}/groups", "Viewer"), ("POST /api/v1/networks/{networkId}/groups", "Admin"),
                     ("GET /api/v1/networks/{networkId}/groups/{groupId}", "Viewer"), ("PATCH /api/v1/networks/{networkId}/groups/{groupId}", "Admin"),
                     ("DELETE /api/v1/networks/{networkId}/groups/{groupId}", "Admin"), ("PUT /api/v1/networks/{networkId}/groups/{groupId}/members", "Admin"),
                     ("GET /api/v1/networks/{networkId}/policies", "Viewer"), ("POST /api/v1/networks/{networkId}/policies", "Admin"),
                     ("GET /api/v1/networks/{networkId}/policies/{policyId}", "Viewer"), ("PATCH /api/v1/networks/{networkId}/policies/{policyId}", "Admin"),
                     ("DELETE /api/v1/networks/{networkId}/policies/{policyId}", "Admin"), ("POST /api/v1/networks/{networkId}/policies/preview", "Admin"),
                     ("GET /api/v1/networks/{networkId}/routes", "Viewer"), ("POST /api/v1/networks/{networkId}/routes", "Admin"),
                     ("GET /api/v1/networks/{networkId}/routes/{routeId}", "Viewer"), ("DELETE /api/v1/networks/{networkId}/routes/{routeId}", "Admin"),
                     ("GET /api/v1/networks/{networkId}/reachability", "Viewer"),
                     ("PUT /api/v1/networks/{networkId}/key-rotation", "Admin"),
                 })
            Assert.True(rules.Any(r => r.Key == route && r.Rule!.Role.ToString() == least), $"{route} should be mapped for {least}");
        foreach (var (key, rule) in rules)
        {
            var method = key[..key.IndexOf(' ')];
            var path = key[(key.IndexOf(' ') + 1)..].Replace("{networkId}", net.ToString()).Replace("{peerId}", peer.ToString())
                .Replace("{tokenId}", Guid.NewGuid().ToString()).Replace("{incidentId}", Guid.NewGuid().ToString())
                .Replace("{groupId}", Guid.NewGuid().ToString()).Replace("{policyId}", Guid.NewGuid().ToString())
                .Replace("{routeId}", Guid.NewGuid().ToString()).Replace("{userId}", Guid.NewGuid().ToString());
            Assert.DoesNotContain("{", path);
            if (path.EndsWith("/config/diff")) path += "?from=1&to=2";
            var request = new HttpRequestMessage(new HttpMethod(method == "*" ? "GET" : method), path);
            if (method is "POST" or "PUT" or "PATCH") request.Content = JsonContent.Create(new { });
            var before = await App.EventCountAsync();
            var response = await client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            if (rule!.Allows(expectedRole))
                Assert.True(response.StatusCode is not (HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized),
                    $"{role} should reach {key} but got {(int)response.StatusCode}: {text}");
            else
            {
                var problem = await AssertProblemAsync(response, 403);
                Assert.Contains(role, problem.GetProperty("detail").GetString());
                Assert.Equal(before, await App.EventCountAsync());
            }
        }
    }

    [Fact]
    public async Task read_only_roles_can_read_but_not_write_or_see_configs_and_the_viewer_gets_no_event_stream()
    {
        var net = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        var peer = (await CreatePeerAsync(net, new { name = "phone", kind = "static" })).GetProperty("id").GetGuid();
        var analyst = await ClientWithRoleAsync("analyst");
        var viewer = await ClientWithRoleAsync("viewer");

        foreach (var reader in new[] { analyst, viewer })
        {
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/v1/networks")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/api/v1/networks/{net}/peers/{peer}")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/v1/incidents")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/api/v1/networks/{net}/state")).StatusCode);
            await AssertRefusedAsync(() => reader.PostAsJsonAsync("/api/v1/networks", new { name = "other", cidr = "10.20.0.0/24" }), 403);
            await AssertRefusedAsync(() => reader.PostAsJsonAsync($"/api/v1/networks/{net}/peers/{peer}/block", new { reason = "x" }), 403);
            await AssertRefusedAsync(() => reader.GetAsync($"/api/v1/networks/{net}/peers/{peer}/config"), 403);
            await AssertRefusedAsync(() => reader.GetAsync("/api/v1/tokens"), 403);
            await AssertRefusedAsync(() => reader.PostAsJsonAsync("/api/v1/tokens", new { name = "escalate", role = "admin" }), 403);
        }
        Assert.Equal(HttpStatusCode.OK, (await analyst.GetAsync("/api/v1/events")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await analyst.GetAsync($"/api/v1/networks/{net}/events")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await analyst.GetAsync($"/api/v1/networks/{net}/timeline")).StatusCode);
        await AssertProblemAsync(await viewer.GetAsync("/api/v1/events"), 403);
        await AssertProblemAsync(await viewer.GetAsync($"/api/v1/networks/{net}/events"), 403);
        await AssertProblemAsync(await viewer.GetAsync($"/api/v1/networks/{net}/timeline"), 403);
        // No token at all is still a 401, not a 403.
        await AssertProblemAsync(await App.Client(null).GetAsync("/api/v1/events"), 401);
    }

    [Theory]
    [InlineData("admin")]
    [InlineData("analyst")]
    [InlineData("viewer")]
    public async Task me_names_the_calling_token_and_its_role(string role)
    {
        var client = await ClientWithRoleAsync(role);
        var me = await BodyAsync(await client.GetAsync("/api/v1/me"));
        Assert.Equal(role + "-token", me.GetProperty("name").GetString());
        Assert.Equal(role, me.GetProperty("role").GetString());
        var listed = (await BodyAsync(await Admin.GetAsync("/api/v1/tokens"))).EnumerateArray()
            .Single(t => t.GetProperty("id").GetGuid() == me.GetProperty("id").GetGuid());
        Assert.Equal(role, listed.GetProperty("role").GetString());
    }

    [Fact]
    public async Task the_bootstrap_token_is_admin()
    {
        var me = await BodyAsync(await Admin.GetAsync("/api/v1/me"));
        Assert.Equal("admin", me.GetProperty("role").GetString());
        Assert.Equal(AdminBootstrap.BootstrapTokenId, me.GetProperty("id").GetGuid());
    }

    [Theory]
    [InlineData("{\"name\":\"x\"}")]
    [InlineData("{\"name\":\"x\",\"role\":\"root\"}")]
    [InlineData("{\"name\":\"x\",\"role\":\"Admin \"}")]
    [InlineData("{\"name\":\"x\",\"role\":null}")]
    public async Task a_token_needs_a_known_role(string body)
    {
        var problem = await AssertRefusedAsync(() => Admin.PostAsync("/api/v1/tokens",
            new StringContent(body, System.Text.Encoding.UTF8, "application/json")), 400);
        Assert.True(problem.GetProperty("errors").TryGetProperty("role", out _));
    }

    [Fact]
    public void a_token_event_stores_its_role_by_name_and_reads_it_back()
    {
        var serializer = App.Store.Options.Serializer();
        var issued = new Wirety.Events.Tokens.ApiTokenIssued(Guid.NewGuid(), "auditor", "ab", null, false,
            Wirety.Events.Actor.System, DateTimeOffset.UnixEpoch, Wirety.Events.Tokens.ApiTokenRole.Analyst);
        var json = serializer.ToJson(issued);
        Assert.Contains("\"role\":\"Analyst\"", json, StringComparison.Ordinal);
        Assert.Equal(issued, serializer.FromJson<Wirety.Events.Tokens.ApiTokenIssued>(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))));
    }
}
