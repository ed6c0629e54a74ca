using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Agents;

/// <summary>What agents receive once policies exist: the entries policy allows and the filter they must enforce.</summary>
public sealed class PolicyEnforcementTests(WiretyApp app) : AgentTest(app)
{
    private async Task<JsonElement> Ok(HttpResponseMessage response, HttpStatusCode status = HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    private static string Address(Enrolled agent) => agent.Config.GetProperty("interface").GetProperty("address").GetString()!;

    private static List<string> Rules(JsonElement config, string chain) =>
        config.GetProperty("filter").GetProperty(chain).EnumerateArray()
            .Select(r => $"{r.GetProperty("action").GetString()} [{string.Join(",", r.GetProperty("sources").EnumerateArray().Select(x => x.GetString()))}]"
                + $" → [{string.Join(",", r.GetProperty("destinations").EnumerateArray().Select(x => x.GetString()))}]"
                + $" {string.Join(",", r.GetProperty("ports").EnumerateArray().Select(x => x.GetString()))}".TrimEnd())
            .ToList();

    [Fact]
    public async Task under_deny_agents_get_only_the_policys_entries_and_a_filter_that_admits_only_it()
    {
        var (net, a, b) = await MeshedPairAsync();
        var c = await EnrollAsync(await TokenForAsync(net, "c"));
        await HeartbeatAsync(c, 51003, ["198.18.0.13:51003"]);
        Assert.Equal(["accept [] → []"], Rules(await AgentConfigAsync(b), "input")); // allow: as before

        var preview = await Ok(await Admin.PostAsJsonAsync($"/api/v1/networks/{net}/policies/preview", new
        {
            defaultPolicy = "deny",
            add = new[] { new { name = "ssh", sources = new { peers = new[] { a.PeerId } }, destinations = new { peers = new[] { b.PeerId } }, ports = new[] { "tcp/22" } } },
        }));
        // a, b and c lose their mesh entries with each other or their open filter, and the jump its open relay.
        Assert.Equal(4, preview.GetProperty("configsChanged").GetInt32());

        await Ok(await Admin.PatchAsJsonAsync($"/api/v1/networks/{net}", new { defaultPolicy = "deny" }));
        await Ok(await Admin.PostAsJsonAsync($"/api/v1/networks/{net}/policies", new
        {
            name = "ssh", sources = new { peers = new[] { a.PeerId } }, destinations = new { peers = new[] { b.PeerId } }, ports = new[] { "tcp/22" },
        }), HttpStatusCode.Created);

        var configA = await AgentConfigAsync(a);
        var configB = await AgentConfigAsync(b);
        var configC = await AgentConfigAsync(c);
        Assert.Equal([$"accept [{Address(a)}] → [] tcp/22"], Rules(configB, "input"));
        Assert.Empty(Rules(configA, "input"));
        Assert.Empty(Rules(configC, "input"));
        Assert.Equal(JsonValueKind.Null, configB.GetProperty("filter").GetProperty("forward").ValueKind);
        // a and b list each other directly (replies need the tunnel); c lists nobody (the jump has not enrolled).
        Assert.Equal(1, configA.GetProperty("peers").GetArrayLength());
        Assert.Equal(1, configB.GetProperty("peers").GetArrayLength());
        Assert.Equal(0, configC.GetProperty("peers").GetArrayLength());
    }

    [Fact]
    public async Task the_jump_relays_only_what_policy_allows_and_drops_the_rest_of_the_network()
    {
        var (net, a, b) = await MeshedPairAsync();
        var jumpToken = (await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{net}/peers"))).EnumerateArray()
            .Single(p => p.GetProperty("kind").GetString() == "jump").GetProperty("id").GetGuid();
        var jump = await EnrollAsync((await Ok(await Admin.PostAsync($"/api/v1/networks/{net}/peers/{jumpToken}/enrollment-token", null)))
            .GetProperty("enrollmentToken").GetString()!);
        await Ok(await Admin.PatchAsJsonAsync($"/api/v1/networks/{net}", new { defaultPolicy = "deny" }));
        await Ok(await Admin.PostAsJsonAsync($"/api/v1/networks/{net}/policies", new
        {
            name = "web", sources = new { peers = new[] { a.PeerId } }, destinations = new { peers = new[] { b.PeerId } }, ports = new[] { "tcp/443", "icmp" },
        }), HttpStatusCode.Created);

        var forward = Rules(await AgentConfigAsync(jump), "forward");
        Assert.Equal([$"accept [{Address(a)}] → [{Address(b)}] tcp/443,icmp", "drop [] → [10.10.0.0/24]"], forward);
    }
}
