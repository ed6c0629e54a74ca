using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Wirety.Events.Tokens;
using Wirety.Server.Auth;
using Wirety.Server.LiveChannel;
using Wirety.Tests.Api.Agents;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Auth;

/// <summary>
/// Roles limited to networks, as a matrix generated from the endpoint metadata: every API endpoint × every role ×
/// in scope / out of scope. A network outside the caller's must answer exactly as one that does not exist, append
/// nothing, and stay out of every list, the event stream and the live channel. A new endpoint without a scope rule,
/// or a handler-filtered one without a probe below, fails <see cref="every_api_endpoint_has_a_scope_rule_and_every_filtered_one_a_probe"/>.
/// </summary>
public sealed class ScopeTests(WiretyApp app) : AgentTest(app)
{
    public static readonly TheoryData<string> Roles = new() { "admin", "analyst", "viewer" };

    private sealed record Fixture(Guid InScope, Guid OutOfScope, Guid PeerA, Guid PeerB, Guid IncidentA, Guid IncidentB, HttpClient Scoped, string Token);

    private IReadOnlyList<(string Key, Endpoint Endpoint, RequiresRoleAttribute Rule)> ApiEndpoints() =>
        App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<RequiresRoleAttribute>() is not null)
            .Select(e => ((e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods is { Count: > 0 } m ? m[0] : "*") + " " + e.RoutePattern.RawText,
                (Endpoint)e, e.Metadata.GetMetadata<RequiresRoleAttribute>()!))
            .ToList();

    /// <summary>The scoped test of each endpoint whose handler narrows what it reads to the caller's networks.</summary>
    private Dictionary<string, Func<Fixture, ApiTokenRole, Task>> FilteredProbes() => new()
    {
        ["GET /api/v1/networks"] = NetworkListAsync,
        ["GET /api/v1/incidents"] = IncidentListAsync,
        ["GET /api/v1/incidents/{incidentId}"] = IncidentByIdAsync,
        ["POST /api/v1/incidents/{incidentId}/resolve"] = ResolveAsync,
        ["GET /api/v1/events"] = EventStreamAsync,
        ["GET /api/v1/me"] = MeAsync,
        ["* /api/v1/ws"] = LiveChannelAsync,
    };

    [Fact]
    public void every_api_endpoint_has_a_scope_rule_and_every_filtered_one_a_probe()
    {
        var endpoints = ApiEndpoints();
        Assert.True(endpoints.Count > 30, $"only {endpoints.Count} API endpoints found");
        foreach (var (key, endpoint, _) in endpoints)
        {
            var declared = endpoint.Metadata.GetMetadata<ScopedAttribute>();
            var byRoute = ((RouteEndpoint)endpoint).RoutePattern.GetParameter(ScopedAttribute.NetworkRouteValue) is not null;
            Assert.True(byRoute ^ (declared is not null),
                $"{key}: an endpoint with {{networkId}} in its route is scoped by it and carries no [Scoped]; every other API endpoint carries one");
            Assert.NotEqual(ScopeRule.RouteNetwork, declared?.Rule);
        }
        var filtered = endpoints.Where(e => ScopedAttribute.RuleOf(e.Endpoint) == ScopeRule.FilteredByHandler).Select(e => e.Key).Order().ToList();
        Assert.Equal(FilteredProbes().Keys.Order().ToList(), filtered);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public async Task a_caller_limited_to_one_network_gets_exactly_what_a_missing_network_gets_for_every_other(string roleName)
    {
        var role = Enum.Parse<ApiTokenRole>(roleName, ignoreCase: true);
        var f = await FixtureAsync(roleName);
        var unknown = Guid.NewGuid();
        var endpoints = ApiEndpoints();
        var checkedRoutes = 0;

        // Out of scope first (nothing may change), then in scope with the network's own deletion last.
        foreach (var (key, endpoint, rule) in endpoints.Where(e => ScopedAttribute.RuleOf(e.Endpoint) == ScopeRule.RouteNetwork))
        {
            var before = await App.EventCountAsync();
            var (outStatus, outDetail) = await SendAsync(f.Scoped, key, f.OutOfScope, f.PeerB);
            var (missingStatus, missingDetail) = await SendAsync(f.Scoped, key, unknown, f.PeerB);
            Assert.True(before == await App.EventCountAsync(), $"{roleName} out of scope: {key} appended events");
            Assert.True(outStatus == missingStatus && outDetail?.Replace(f.OutOfScope.ToString(), "N") == missingDetail?.Replace(unknown.ToString(), "N"),
                $"{roleName}: {key} on an out-of-scope network answered {outStatus} '{outDetail}', on a missing one {missingStatus} '{missingDetail}'");
            if (rule.Allows(role))
                Assert.True(outStatus == 404 && outDetail == $"There is no network {f.OutOfScope}.", $"{roleName}: {key} out of scope answered {outStatus} {outDetail}");
            else Assert.Equal(403, outStatus);
            checkedRoutes++;
        }
        foreach (var (key, _, rule) in endpoints.Where(e => ScopedAttribute.RuleOf(e.Endpoint) == ScopeRule.RouteNetwork)
                     .OrderBy(e => e.Key == "DELETE /api/v1/networks/{networkId}"))
        {
            var (status, detail) = await SendAsync(f.Scoped, key, f.InScope, f.PeerA);
            if (rule.Allows(role))
                Assert.False(status is 401 or 403 || detail == $"There is no network {f.InScope}.",
                    $"{roleName} should reach {key} on its own network but got {status}: {detail}");
            else Assert.Equal(403, status);
        }
        Assert.True(checkedRoutes > 30, $"only {checkedRoutes} network routes checked");

        foreach (var (key, _, _) in endpoints.Where(e => ScopedAttribute.RuleOf(e.Endpoint) == ScopeRule.EveryNetworkOnly))
        {
            var before = await App.EventCountAsync();
            var (status, detail) = await SendAsync(f.Scoped, key, f.InScope, f.PeerA);
            Assert.True(status == 403, $"{roleName} limited to a network must not reach {key}: {status} {detail}");
            Assert.Equal(before, await App.EventCountAsync());
        }

        foreach (var (key, probe) in FilteredProbes())
        {
            try { await probe(f, role); }
            catch (Exception e) { throw new Xunit.Sdk.XunitException($"{roleName}: {key}: {e.Message}"); }
        }
    }

    [Fact]
    public async Task a_scoped_token_names_existing_networks_and_only_a_global_admin_issues_tokens()
    {
        var net = (await CreateNetworkAsync("corp", "10.10.0.0/24")).GetProperty("id").GetGuid();
        foreach (var (body, member) in new (object, string)[]
                 {
                     (new { name = "x", role = "viewer", networkIds = Array.Empty<Guid>() }, "networkIds"),
                     (new { name = "x", role = "viewer", networkIds = new[] { Guid.NewGuid() } }, "networkIds"),
                     (new { name = "x", role = "viewer", networkIds = new[] { Guid.Empty } }, "networkIds"),
                     (new { name = "x", role = "viewer", networkIds = new[] { net, net } }, "networkIds"),
                 })
        {
            var problem = await AssertRefusedAsync(() => Admin.PostAsJsonAsync("/api/v1/tokens", body), 400);
            Assert.True(problem.GetProperty("errors").TryGetProperty(member, out _), problem.ToString());
        }
        var issued = await BodyAsync(await Admin.PostAsJsonAsync("/api/v1/tokens", new { name = "corp-admin", role = "admin", networkIds = new[] { net } }));
        Assert.Equal([net], issued.GetProperty("networkIds").EnumerateArray().Select(e => e.GetGuid()));
        var listed = (await BodyAsync(await Admin.GetAsync("/api/v1/tokens"))).EnumerateArray().Single(t => t.GetProperty("name").GetString() == "corp-admin");
        Assert.Equal([net], listed.GetProperty("networkIds").EnumerateArray().Select(e => e.GetGuid()));
        Assert.Equal(JsonValueKind.Null, (await BodyAsync(await Admin.GetAsync("/api/v1/me"))).GetProperty("networkIds").ValueKind);

        // A network-limited admin cannot mint a global token (or any token): no escalation out of its networks.
        var scoped = App.Client(issued.GetProperty("token").GetString());
        var refused = await AssertRefusedAsync(() => scoped.PostAsJsonAsync("/api/v1/tokens", new { name = "escape", role = "admin" }), 403);
        Assert.Contains("limited to some networks", refused.GetProperty("detail").GetString());
        await AssertRefusedAsync(() => scoped.PostAsJsonAsync("/api/v1/networks", new { name = "other", cidr = "10.20.0.0/24" }), 403);
    }

    // ---- the fixture: two networks with a peer and an open incident each; a token of the role limited to the first

    private async Task<Fixture> FixtureAsync(string role)
    {
        var (a, peerA, incidentA) = await NetworkWithIncidentAsync("corp", "10.10.0.0/24", "192.0.2.1");
        var (b, peerB, incidentB) = await NetworkWithIncidentAsync("lab", "10.20.0.0/24", "192.0.2.2");
        var response = await Admin.PostAsJsonAsync("/api/v1/tokens", new { name = $"{role}-corp", role, networkIds = new[] { a } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var token = (await BodyAsync(response)).GetProperty("token").GetString()!;
        return new Fixture(a, b, peerA, peerB, incidentA, incidentB, App.Client(token), token);
    }

    private async Task<(Guid Net, Guid Peer, Guid Incident)> NetworkWithIncidentAsync(string name, string cidr, string owner)
    {
        var net = (await CreateNetworkAsync(name, cidr)).GetProperty("id").GetGuid();
        await CreatePeerAsync(net, new { name = "hub", kind = "jump", endpoint = "198.18.0.1:51820", listenPort = 51820 });
        var agent = await EnrollAsync(await TokenForAsync(net, "laptop"));
        foreach (var source in new[] { owner, "198.51.100.7", owner }) // a second source: the config is in two places
        {
            var beat = await HeartbeatAsync(agent, 51001, from: source);
            Assert.True(beat.IsSuccessStatusCode, $"heartbeat: {(int)beat.StatusCode} {await beat.Content.ReadAsStringAsync()}");
        }
        var incidents = await BodyAsync(await Admin.GetAsync($"/api/v1/incidents?state=open&peerId={agent.PeerId}"));
        return (net, agent.PeerId, Assert.Single(incidents.EnumerateArray()).GetProperty("id").GetGuid());
    }

    /// <summary>Sends the endpoint's request with its ids filled in; the status and the problem's detail, if any.</summary>
    private static async Task<(int Status, string? Detail)> SendAsync(HttpClient client, string key, Guid network, Guid peer)
    {
        var method = key[..key.IndexOf(' ')];
        var path = key[(key.IndexOf(' ') + 1)..].Replace("{networkId}", network.ToString()).Replace("{peerId}", peer.ToString());
        foreach (var other in new[] { "{tokenId}", "{incidentId}", "{groupId}", "{policyId}", "{routeId}", "{userId}" })
            path = path.Replace(other, Guid.Empty.ToString().Replace("00000000-", "00000001-"));
        Assert.DoesNotContain("{", path);
        if (path.EndsWith("/config/diff")) path += "?from=1&to=2";
        var request = new HttpRequestMessage(new HttpMethod(method == "*" ? "GET" : method), path);
        if (method is "POST" or "PUT" or "PATCH") request.Content = JsonContent.Create(new { });
        var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        string? detail = null;
        if (response.Content.Headers.ContentType?.MediaType == "application/problem+json")
            detail = JsonDocument.Parse(text).RootElement.TryGetProperty("detail", out var d) ? d.GetString() : null;
        return ((int)response.StatusCode, detail);
    }

    // ---- probes of the handler-filtered endpoints

    private async Task NetworkListAsync(Fixture f, ApiTokenRole role)
    {
        var ids = (await BodyAsync(await f.Scoped.GetAsync("/api/v1/networks"))).EnumerateArray().Select(n => n.GetProperty("id").GetGuid()).ToList();
        Assert.Equal([f.InScope], ids);
        Assert.Equal(2, (await BodyAsync(await Admin.GetAsync("/api/v1/networks"))).GetArrayLength());
    }

    private async Task IncidentListAsync(Fixture f, ApiTokenRole role)
    {
        var all = (await BodyAsync(await f.Scoped.GetAsync("/api/v1/incidents"))).EnumerateArray().Select(i => i.GetProperty("id").GetGuid()).ToList();
        Assert.Equal([f.IncidentA], all);
        Assert.Empty((await BodyAsync(await f.Scoped.GetAsync($"/api/v1/incidents?networkId={f.OutOfScope}"))).EnumerateArray());
        Assert.Equal(2, (await BodyAsync(await Admin.GetAsync("/api/v1/incidents"))).GetArrayLength());
    }

    private async Task IncidentByIdAsync(Fixture f, ApiTokenRole role)
    {
        Assert.Equal(HttpStatusCode.OK, (await f.Scoped.GetAsync($"/api/v1/incidents/{f.IncidentA}")).StatusCode);
        var hidden = await AssertProblemAsync(await f.Scoped.GetAsync($"/api/v1/incidents/{f.IncidentB}"), 404);
        var missing = Guid.NewGuid();
        var absent = await AssertProblemAsync(await f.Scoped.GetAsync($"/api/v1/incidents/{missing}"), 404);
        Assert.Equal(absent.GetProperty("detail").GetString()!.Replace(missing.ToString(), "N"),
            hidden.GetProperty("detail").GetString()!.Replace(f.IncidentB.ToString(), "N"));
    }

    private async Task ResolveAsync(Fixture f, ApiTokenRole role)
    {
        var note = new { note = "checked", unblock = true };
        var hidden = await AssertRefusedAsync(() => f.Scoped.PostAsJsonAsync($"/api/v1/incidents/{f.IncidentB}/resolve", note),
            role == ApiTokenRole.Admin ? 404 : 403);
        if (role != ApiTokenRole.Admin) return;
        Assert.Equal($"There is no incident {f.IncidentB}.", hidden.GetProperty("detail").GetString());
        Assert.Equal("open", (await BodyAsync(await Admin.GetAsync($"/api/v1/incidents/{f.IncidentB}"))).GetProperty("state").GetString());
        var resolved = await f.Scoped.PostAsJsonAsync($"/api/v1/incidents/{f.IncidentA}/resolve", note);
        Assert.Equal(HttpStatusCode.OK, resolved.StatusCode);
    }

    private async Task EventStreamAsync(Fixture f, ApiTokenRole role)
    {
        if (role == ApiTokenRole.Viewer)
        {
            await AssertProblemAsync(await f.Scoped.GetAsync("/api/v1/events"), 403);
            return;
        }
        var networks = new List<string?>();
        for (long? after = 0; after is not null;)
        {
            var page = await BodyAsync(await f.Scoped.GetAsync($"/api/v1/events?after={after}&limit=500"));
            networks.AddRange(page.GetProperty("items").EnumerateArray().Select(NetworkOf));
            after = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").GetInt64();
        }
        Assert.NotEmpty(networks);
        Assert.All(networks, n => Assert.Equal(f.InScope.ToString(), n));
        Assert.Empty((await BodyAsync(await f.Scoped.GetAsync($"/api/v1/events?networkId={f.OutOfScope}"))).GetProperty("items").EnumerateArray());

        var export = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events");
        export.Headers.Accept.ParseAdd("application/x-ndjson");
        var lines = (await (await f.Scoped.SendAsync(export)).Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(networks.Count, lines.Length);
        Assert.All(lines, l => Assert.Equal(f.InScope.ToString(), NetworkOf(JsonDocument.Parse(l).RootElement)));

        // The global stream has the other network's events and the token events the scoped one leaves out.
        var global = await BodyAsync(await Admin.GetAsync("/api/v1/events?limit=500"));
        Assert.Contains(global.GetProperty("items").EnumerateArray(), e => NetworkOf(e) == f.OutOfScope.ToString());
        Assert.Contains(global.GetProperty("items").EnumerateArray(), e => NetworkOf(e) is null);
    }

    private static string? NetworkOf(JsonElement item) =>
        item.GetProperty("data").TryGetProperty("networkId", out var n) ? n.GetString() : null;

    private async Task MeAsync(Fixture f, ApiTokenRole role)
    {
        var me = await BodyAsync(await f.Scoped.GetAsync("/api/v1/me"));
        Assert.Equal([f.InScope], me.GetProperty("networkIds").EnumerateArray().Select(e => e.GetGuid()));
        Assert.Equal("token", me.GetProperty("kind").GetString());
        Assert.Equal(role.ToString().ToLowerInvariant(), me.GetProperty("role").GetString());
    }

    private async Task LiveChannelAsync(Fixture f, ApiTokenRole role)
    {
        var client = App.Server.CreateWebSocketClient();
        client.ConfigureRequest = r => r.Headers.Authorization = "Bearer " + f.Token;
        using var socket = await client.ConnectAsync(new Uri(App.Server.BaseAddress, "api/v1/ws"), CancellationToken.None);
        Assert.Equal(LiveNotice.Ready, (await ReceiveAsync(socket)).Type);
        // A change in the other network first, then one in the caller's: the first notice must be about the caller's.
        Assert.Equal(HttpStatusCode.OK, (await Admin.PatchAsJsonAsync($"/api/v1/networks/{f.OutOfScope}", new { mtu = 1380 })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Admin.PatchAsJsonAsync($"/api/v1/networks/{f.InScope}", new { mtu = 1380 })).StatusCode);
        var notice = await ReceiveAsync(socket);
        Assert.Equal(f.InScope, notice.NetworkId);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
    }

    private static async Task<LiveNotice> ReceiveAsync(WebSocket socket)
    {
        var buffer = new byte[8192];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var result = await socket.ReceiveAsync(buffer, timeout.Token);
        return JsonSerializer.Deserialize(System.Text.Encoding.UTF8.GetString(buffer, 0, result.Count), LiveNoticeJson.Default.LiveNotice)!;
    }
}
