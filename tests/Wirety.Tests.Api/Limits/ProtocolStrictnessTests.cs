using System.Net;
using System.Net.Http.Json;
using Wirety.Events.Peers;
using Wirety.Server.Peers;
using Wirety.Testing;
using Wirety.Tests.Api.Agents;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Limits;

/// <summary>On the shared server: how strictly requests are read, and enrollment under a race.</summary>
public sealed class ProtocolStrictnessTests(WiretyApp app) : AgentTest(app)
{
    [Fact]
    public async Task an_unknown_member_in_an_admin_request_is_400_naming_it_and_changes_nothing()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var peer = (await CreatePeerAsync(net, new { name = "laptop", kind = "dynamic" })).GetProperty("id").GetGuid();

        var typo = await AssertRefusedAsync(() => Admin.PatchAsJsonAsync($"/api/v1/networks/{net}/peers/{peer}", new { fullEncapsulaton = true }), 400);
        Assert.Contains("fullEncapsulaton", typo.GetProperty("detail").GetString());
        var created = await AssertRefusedAsync(() => Admin.PostAsJsonAsync("/api/v1/networks", new { name = "lab", cidr = "10.30.0.0/24", dnsDomian = "lab" }), 400);
        Assert.Contains("dnsDomian", created.GetProperty("detail").GetString());
        var nested = await AssertRefusedAsync(() => Admin.PostAsJsonAsync("/api/v1/tokens", new { name = "ci", role = "viewer", scope = "all" }), 400);
        Assert.Contains("scope", nested.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task the_agent_protocol_ignores_members_it_does_not_know()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var token = await TokenForAsync(net, "a");
        var keys = WireGuardKeyPair.Generate();
        var enrolled = await App.Client(null).PostAsJsonAsync("/api/v1/agent/enroll",
            new { token, publicKey = keys.PublicKey, hostname = "h", agentVersion = "9.9", capabilities = new[] { "deltas" } });
        Assert.Equal(HttpStatusCode.OK, enrolled.StatusCode);
        var session = (await BodyAsync(enrolled)).GetProperty("sessionToken").GetString();
        var beat = await App.Client(session).PostAsJsonAsync("/api/v1/agent/heartbeat", new { hostname = "h", uptimeSeconds = 1, kernel = "6.12" });
        Assert.Equal(HttpStatusCode.NoContent, beat.StatusCode);
    }

    [Theory]
    [InlineData("vpn.example.com:51820")]
    [InlineData("localhost:51820")]
    public async Task a_reported_endpoint_must_be_an_ip_address_not_a_dns_name(string endpoint)
    {
        var (net, _) = await NetworkWithJumpAsync();
        var a = await EnrollAsync(await TokenForAsync(net, "a"));
        var body = await AssertRefusedAsync(() => a.Client.PostAsJsonAsync("/api/v1/agent/heartbeat",
            new { hostname = "h", listenPort = 51820, endpoints = new[] { endpoint }, uptimeSeconds = 1 }), 400);
        Assert.Contains("IP address", body.GetProperty("errors").GetProperty("endpoints")[0].GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await HeartbeatAsync(a, 51820, ["[2001:db8::7]:51820"])).StatusCode);
    }

    [Fact]
    public async Task two_enrollments_racing_on_one_token_give_one_success_and_one_PeerEnrolled()
    {
        var (net, _) = await NetworkWithJumpAsync();
        for (var round = 0; round < 5; round++)
        {
            var token = await TokenForAsync(net, $"p{round}");
            Task<HttpResponseMessage> Enroll() => App.Client(null).PostAsJsonAsync("/api/v1/agent/enroll",
                new { token, publicKey = WireGuardKeyPair.Generate().PublicKey, hostname = "h" });
            var statuses = (await Task.WhenAll(Enroll(), Enroll())).Select(r => (int)r.StatusCode).Order().ToArray();
            Assert.Equal([200, 401], statuses);
        }
        await using var session = App.Store.QuerySession();
        var enrolled = (await session.Events.FetchStreamAsync(net)).Select(e => e.Data).OfType<PeerEnrolled>().ToList();
        Assert.Equal(5, enrolled.Count);
        Assert.Equal(5, enrolled.Select(e => e.PeerId).Distinct().Count());
    }
}
