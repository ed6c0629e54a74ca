using System.Net.Http.Json;
using System.Text;
using Wirety.Tests.Api.Agents;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Limits;

/// <summary>On the shared server: the 400 for an admin body the server does not understand says exactly what, and nothing of its internals.</summary>
public sealed class UnknownMemberTests(WiretyApp app) : AgentTest(app)
{
    private static StringContent Raw(string json) => new(json, Encoding.UTF8, "application/json");

    private static void AssertNoInternals(string text)
    {
        foreach (var leak in new[] { "Wirety.", "System.", "Request", ".NET", "could not be mapped", "Exception", "Path:" })
            Assert.DoesNotContain(leak, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_patch_with_several_unknown_members_is_one_400_naming_each_by_its_path()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var problem = await AssertRefusedAsync(() => Admin.PatchAsJsonAsync($"/api/v1/networks/{net}",
            new { fullEncapsulaton = true, nmae = "lab", mtu = 1400 }), 400);
        Assert.Equal("unknown members: fullEncapsulaton, nmae.", problem.GetProperty("detail").GetString());
        Assert.Equal("unknown member", problem.GetProperty("errors").GetProperty("nmae")[0].GetString());
        AssertNoInternals(problem.GetRawText());

        // Nested members and array items are named by their JSON path; values of the wrong JSON kind too.
        var group = (await BodyAsync(await Admin.PostAsJsonAsync($"/api/v1/networks/{net}/groups", new { name = "ops" }))).GetProperty("id").GetGuid();
        var created = await Admin.PostAsJsonAsync($"/api/v1/networks/{net}/policies",
            new { name = "p", sources = new { groups = new[] { group } }, destinations = new { groups = new[] { group } } });
        var policy = (await BodyAsync(created)).GetProperty("id").GetGuid();
        var nested = await AssertRefusedAsync(() => Admin.PatchAsync($"/api/v1/networks/{net}/policies/{policy}", Raw("""
            {"nmae":"x","sources":{"grups":[],"peers":[]},"descripton":"y","destinations":{"groups":"ops"},"ports":[7]}
            """)), 400);
        Assert.Equal("unknown members: nmae, sources.grups, descripton; destinations.groups must be an array; ports[0] must be a string.",
            nested.GetProperty("detail").GetString());
        AssertNoInternals(nested.GetRawText());
    }

    [Fact]
    public async Task malformed_json_is_a_400_giving_only_the_line_and_position()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var problem = await AssertRefusedAsync(() => Admin.PatchAsync($"/api/v1/networks/{net}", Raw("{\n  \"name\": \"lab\",\n  \"mtu\": 14x0\n}")), 400);
        Assert.Equal("The request body is not valid JSON: syntax error at line 3, position 12.", problem.GetProperty("detail").GetString());
        AssertNoInternals(problem.GetRawText());

        // Well-formed JSON of the right kind that still does not fit (a number too large for the field): no internals either.
        var overflow = await AssertRefusedAsync(() => Admin.PatchAsync($"/api/v1/networks/{net}", Raw("""{"mtu": 99999999999}""")), 400);
        Assert.Equal("mtu must be a whole number from -2147483648 to 2147483647.", overflow.GetProperty("detail").GetString());
        AssertNoInternals(overflow.GetRawText());
        // A value only the serializer can judge (a window that is not hh:mm:ss): its answer, scrubbed to the path.
        var window = await AssertRefusedAsync(() => Admin.PutAsync($"/api/v1/networks/{net}/security", Raw("""{"sessionConflictWindow": "banana"}""")), 400);
        Assert.Contains("the value at sessionConflictWindow is not one it accepts", window.GetProperty("detail").GetString());
        AssertNoInternals(window.GetRawText());
    }

    [Fact]
    public async Task the_agent_protocol_stays_tolerant_of_unknown_members()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var agent = await EnrollAsync(await TokenForAsync(net, "a"));
        Assert.Equal(System.Net.HttpStatusCode.NoContent,
            (await agent.Client.PostAsJsonAsync("/api/v1/agent/heartbeat", new { hostname = "h", uptimeSeconds = 1, kernel = "6.12", future = new { x = 1 } })).StatusCode);
    }
}
