using System.Net;
using System.Net.Http.Json;
using Wirety.Events.Networks;
using Wirety.Tests.Api.Agents;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Networks;

public sealed class DnsEndpointAllowanceTests(WiretyApp app) : AgentTest(app)
{
    private Task<HttpResponseMessage> AddStaticAsync(Guid net, string name, string endpoint) =>
        Admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers", new { name, kind = "static", endpoint });

    private async Task AllowAsync(Guid net, bool allowed)
    {
        var response = await Admin.PatchAsJsonAsync($"/api/v1/networks/{net}", new { allowDnsEndpoints = allowed });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Equal(allowed, (await BodyAsync(response)).GetProperty("allowDnsEndpoints").GetBoolean());
    }

    [Fact]
    public async Task dns_endpoints_are_refused_by_default_accepted_once_an_admin_allows_them_and_refused_again_when_turned_off()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var agent = await EnrollAsync(await TokenForAsync(net, "a"));
        Assert.False((await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{net}"))).GetProperty("allowDnsEndpoints").GetBoolean());

        // Default: address literals only, for a static peer's declared endpoint and an agent's reported one.
        var refused = await AssertRefusedAsync(() => AddStaticAsync(net, "printer", "printer.example.com:51820"), 400);
        Assert.Contains("not a DNS name", refused.GetProperty("errors").GetProperty("endpoint")[0].GetString());
        var beat = await AssertRefusedAsync(() => HeartbeatAsync(agent, 51820, ["agent.example.com:51820"]), 400);
        Assert.Contains("allowDnsEndpoints", beat.GetProperty("errors").GetProperty("endpoints")[0].GetString());
        Assert.Equal(HttpStatusCode.Created, (await AddStaticAsync(net, "camera", "192.0.2.7:51820")).StatusCode);

        await AllowAsync(net, true);
        var printer = await AddStaticAsync(net, "printer", "printer.example.com:51820");
        Assert.Equal(HttpStatusCode.Created, printer.StatusCode);
        var printerId = (await BodyAsync(printer)).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.NoContent, (await HeartbeatAsync(agent, 51820, ["agent.example.com:51820"])).StatusCode);
        // Asking for what is already so changes nothing.
        var before = await App.EventCountAsync();
        await AllowAsync(net, true);
        Assert.Equal(before, await App.EventCountAsync());

        await AllowAsync(net, false);
        await AssertRefusedAsync(() => AddStaticAsync(net, "scanner", "scanner.example.com:51820"), 400);
        await AssertRefusedAsync(() => HeartbeatAsync(agent, 51820, ["agent.example.com:51820"]), 400);
        // What was stored while allowed stays readable, and the peer can still be edited without touching it.
        var stored = await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{net}/peers/{printerId}"));
        Assert.Equal("printer.example.com:51820", stored.GetProperty("endpoint").GetString());
        Assert.Equal(HttpStatusCode.OK, (await Admin.PatchAsJsonAsync($"/api/v1/networks/{net}/peers/{printerId}", new { name = "printer2" })).StatusCode);
        await AssertRefusedAsync(() => Admin.PatchAsJsonAsync($"/api/v1/networks/{net}/peers/{printerId}", new { endpoint = "other.example.com:51820" }), 400);

        // Recorded with its actor, and told in the timeline.
        await using (var session = App.Store.QuerySession())
        {
            var changes = (await session.Events.FetchStreamAsync(net)).Select(e => e.Data).OfType<DnsEndpointsAllowanceChanged>().ToList();
            Assert.Equal([true, false], changes.Select(c => c.Allowed));
            Assert.All(changes, c => Assert.Equal("bootstrap-admin", c.Actor.Name));
        }
        var timeline = await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{net}/timeline?limit=500"));
        var summaries = timeline.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("summary").GetString()!).ToList();
        Assert.Contains("bootstrap-admin allowed DNS names as peer endpoints in network corp", summaries);
        Assert.Contains(summaries, s => s.StartsWith("bootstrap-admin stopped allowing DNS names as peer endpoints in network corp", StringComparison.Ordinal));
    }
}
