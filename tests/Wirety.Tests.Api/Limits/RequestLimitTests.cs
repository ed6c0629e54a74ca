using System.Net;
using System.Net.Http.Json;
using Wirety.Server.Peers;
using Wirety.Testing;

namespace Wirety.Tests.Api.Limits;

public sealed class RequestLimitTests(LimitsApp app) : LimitsTest(app)
{
    private static string Padded(int bytes) => new('x', bytes);

    [Fact]
    public async Task an_agent_body_over_the_agent_limit_is_413_whether_or_not_its_length_is_announced()
    {
        var key = WireGuardKeyPair.Generate().PublicKey;
        string Enrollment() => $$"""{"token":"wirety_enroll_x","publicKey":"{{key}}","hostname":"{{Padded(LimitsApp.AgentBodyBytes)}}"}""";
        await AssertRefusedAsync(() => App.Client(null).SendAsync(From("198.51.100.11", HttpMethod.Post, "/api/v1/agent/enroll", SizedJson(Enrollment()))), 413);
        await AssertRefusedAsync(() => App.Client(null).SendAsync(From("198.51.100.11", HttpMethod.Post, "/api/v1/agent/enroll", new UnsizedContent(Enrollment()))), 413);

        var (net, _) = await NetworkWithJumpAsync();
        var agent = await EnrollFromAsync("198.51.100.12", await TokenForAsync(net, "a"));
        string Heartbeat(int stats) =>
            $$"""{"hostname":"h","uptimeSeconds":1,"peerStats":[{{string.Join(",", Enumerable.Repeat($$"""{"publicKey":"{{key}}","rxBytes":1,"txBytes":1}""", stats))}}]}""";
        // The heartbeat has room for a jump peer's stats (more than the other agent requests), and a limit of its own.
        Assert.True(Heartbeat(60).Length is > LimitsApp.AgentBodyBytes and < LimitsApp.HeartbeatBodyBytes);
        Assert.Equal(HttpStatusCode.NoContent, (await agent.Client.PostAsync("/api/v1/agent/heartbeat", SizedJson(Heartbeat(60)))).StatusCode);
        var heartbeat = Heartbeat(200);
        await AssertRefusedAsync(() => agent.Client.PostAsync("/api/v1/agent/heartbeat", SizedJson(heartbeat)), 413);
        await AssertRefusedAsync(() => agent.Client.PostAsync("/api/v1/agent/heartbeat", new UnsizedContent(heartbeat)), 413);
    }

    [Fact]
    public async Task the_admin_api_takes_bodies_up_to_its_own_larger_limit_and_refuses_bigger_ones_with_413()
    {
        // Over the agent limit but under the admin one: read and judged on its content (a name this long is invalid).
        var big = new { name = Padded(LimitsApp.AgentBodyBytes * 2), cidr = "10.20.0.0/24" };
        await AssertRefusedAsync(() => Admin.PostAsJsonAsync("/api/v1/networks", big), 400);
        var huge = new { name = Padded(LimitsApp.AdminBodyBytes), cidr = "10.20.0.0/24" };
        await AssertRefusedAsync(() => Admin.PostAsJsonAsync("/api/v1/networks", huge), 413);
        await AssertRefusedAsync(() => Admin.PostAsync("/api/v1/networks", SizedJson(System.Text.Json.JsonSerializer.Serialize(huge))), 413);
    }

    [Fact]
    public async Task enrollment_attempts_are_limited_per_source_address_and_refusals_share_one_stream()
    {
        const string flooder = "198.51.100.21", other = "198.51.100.22";
        HttpRequestMessage Attempt(string source) => From(source, HttpMethod.Post, "/api/v1/agent/enroll", JsonContent.Create(new
        {
            token = "wirety_enroll_" + Guid.NewGuid().ToString("N"), publicKey = WireGuardKeyPair.Generate().PublicKey, hostname = "h",
        }));

        for (var i = 0; i < LimitsApp.Enrollments; i++)
            await AssertProblemAsync(await App.Client(null).SendAsync(Attempt(flooder)), 401);
        var before = await App.EventCountAsync();
        await AssertTooManyAsync(await App.Client(null).SendAsync(Attempt(flooder)));
        Assert.Equal(before, await App.EventCountAsync());
        // Another address has its own budget.
        await AssertProblemAsync(await App.Client(null).SendAsync(Attempt(other)), 401);

        // Every refusal is recorded, but a flood of made-up tokens grows one stream, not one per attempt.
        Assert.Equal((LimitsApp.Enrollments, 1L), await RejectionsFromAsync(flooder));
    }

    [Fact]
    public async Task heartbeats_are_limited_per_agent_session()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var a = await EnrollFromAsync("198.51.100.31", await TokenForAsync(net, "a"));
        var b = await EnrollFromAsync("198.51.100.31", await TokenForAsync(net, "b"));
        for (var i = 0; i < LimitsApp.Heartbeats; i++)
            Assert.Equal(HttpStatusCode.NoContent, (await HeartbeatAsync(a)).StatusCode);
        var before = await App.EventCountAsync();
        await AssertTooManyAsync(await a.Client.PostAsJsonAsync("/api/v1/agent/heartbeat", new { hostname = "h", uptimeSeconds = 1 }));
        Assert.Equal(before, await App.EventCountAsync());
        // Another session of the same network is not held back by it.
        Assert.Equal(HttpStatusCode.NoContent, (await HeartbeatAsync(b)).StatusCode);
    }

    [Fact]
    public async Task admin_api_requests_are_limited_per_token()
    {
        var issued = await BodyAsync(await Admin.PostAsJsonAsync("/api/v1/tokens", new { name = "script", role = "viewer" }));
        var script = App.Client(issued.GetProperty("token").GetString());
        for (var i = 0; i < LimitsApp.AdminRequests; i++)
        {
            var ok = await script.GetAsync("/api/v1/me");
            Assert.True(ok.StatusCode == HttpStatusCode.OK, $"request {i + 1}: {(int)ok.StatusCode}");
        }
        await AssertTooManyAsync(await script.GetAsync("/api/v1/me"));
        await AssertTooManyAsync(await script.GetAsync("/api/v1/networks"));
        // Other tokens are unaffected.
        Assert.Equal(HttpStatusCode.OK, (await Admin.GetAsync("/api/v1/me")).StatusCode);
        // Health probes and the agent config are never rate limited by the admin budget.
        Assert.Equal(HttpStatusCode.OK, (await script.GetAsync("/healthz")).StatusCode);
    }
}
