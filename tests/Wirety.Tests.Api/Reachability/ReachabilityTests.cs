using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Reachability;

public sealed class ReachabilityTests(WiretyApp app) : SegmentationTest(app)
{
    private static List<string> Pairs(JsonElement view) => view.GetProperty("pairs").EnumerateArray().Select(p =>
        $"{p.GetProperty("from").GetProperty("name").GetString()}->{p.GetProperty("to").GetProperty("name").GetString()}"
        + $" {string.Join(",", p.GetProperty("ports").EnumerateArray().Select(x => x.GetString()))}").ToList();

    [Fact]
    public async Task under_allow_every_pair_reaches_everything_except_with_isolated_and_blocked_peers()
    {
        var mesh = await MeshAsync();
        var kiosk = (await CreatePeerAsync(mesh.Net, new { name = "kiosk", kind = "dynamic", isolated = true })).GetProperty("id").GetGuid();
        await OkAsync(await Admin.PostAsJsonAsync($"{mesh.Url}/peers/{mesh.Db}/block", new { reason = "lost" }));

        var view = await OkAsync(await Admin.GetAsync($"{mesh.Url}/reachability"));
        Assert.Equal(("allow", mesh.Net, await VersionAsync(mesh.Net)),
            (view.GetProperty("defaultPolicy").GetString(), view.GetProperty("networkId").GetGuid(), view.GetProperty("version").GetInt64()));
        Assert.Equal(["jump->laptop ", "jump->server ", "jump->kiosk ", "laptop->jump ", "laptop->server ", "server->jump ", "server->laptop ", "kiosk->jump "],
            Pairs(view));
        Assert.Equal(8, view.GetProperty("total").GetInt32());
        Assert.False(view.GetProperty("truncated").GetBoolean());

        var only = await OkAsync(await Admin.GetAsync($"{mesh.Url}/reachability?peer={kiosk}"));
        Assert.Equal(["jump->kiosk ", "kiosk->jump "], Pairs(only));
    }

    [Fact]
    public async Task under_deny_only_what_policies_allow_is_reachable()
    {
        var mesh = await MeshAsync();
        var ops = await GroupAsync(mesh, "ops", mesh.Laptop);
        await PolicyAsync(mesh, "ssh", new { groups = new[] { ops } }, new { peers = new[] { mesh.Server, mesh.Db } }, ["tcp/22"]);
        await PolicyAsync(mesh, "dns", new { peers = new[] { mesh.Laptop } }, new { peers = new[] { mesh.Server } }, ["udp/53", "tcp/22"]);
        await DenyByDefaultAsync(mesh);

        var view = await OkAsync(await Admin.GetAsync($"{mesh.Url}/reachability"));
        Assert.Equal("deny", view.GetProperty("defaultPolicy").GetString());
        Assert.Equal(["laptop->server tcp/22,udp/53", "laptop->db tcp/22"], Pairs(view));
        Assert.Empty(Pairs(await OkAsync(await Admin.GetAsync($"{mesh.Url}/reachability?peer={mesh.Jump}"))));
    }

    [Fact]
    public async Task reachability_at_a_past_time_or_sequence_answers_what_it_was_then()
    {
        var mesh = await MeshAsync();
        await PolicyAsync(mesh, "ssh", new { peers = new[] { mesh.Laptop } }, new { peers = new[] { mesh.Server } }, ["tcp/22"]);
        var before = App.Clock.GetUtcNow();
        var sequence = (await BodyAsync(await Admin.GetAsync($"{mesh.Url}/events"))).EnumerateArray().Last().GetProperty("sequence").GetInt64();
        App.Clock.Advance(TimeSpan.FromMinutes(5));
        await DenyByDefaultAsync(mesh);

        Assert.Equal(["laptop->server tcp/22"], Pairs(await OkAsync(await Admin.GetAsync($"{mesh.Url}/reachability"))));
        foreach (var at in new[] { Uri.EscapeDataString(before.ToString("O")), sequence.ToString() })
        {
            var then = await OkAsync(await Admin.GetAsync($"{mesh.Url}/reachability?at={at}"));
            Assert.Equal("allow", then.GetProperty("defaultPolicy").GetString());
            Assert.Equal(12, then.GetProperty("total").GetInt32());
            Assert.Equal(6, Pairs(await OkAsync(await Admin.GetAsync($"{mesh.Url}/reachability?at={at}&peer={mesh.Laptop}"))).Count);
        }
        await AssertProblemAsync(await Admin.GetAsync($"{mesh.Url}/reachability?at=2000-01-01T00:00:00Z"), 404);
    }

    [Fact]
    public async Task bad_parameters_and_unknown_ids_are_problems()
    {
        var mesh = await MeshAsync();
        await AssertProblemAsync(await Admin.GetAsync($"{mesh.Url}/reachability?at=yesterday"), 400);
        await AssertProblemAsync(await Admin.GetAsync($"{mesh.Url}/reachability?peer=laptop"), 400);
        await AssertProblemAsync(await Admin.GetAsync($"{mesh.Url}/reachability?peer={Guid.Empty}"), 404);
        await AssertProblemAsync(await Admin.GetAsync($"{mesh.Url}/reachability?peer={Guid.NewGuid()}"), 404);
        await AssertProblemAsync(await Admin.GetAsync($"/api/v1/networks/{Guid.Empty}/reachability"), 404);
        await AssertProblemAsync(await Admin.GetAsync($"/api/v1/networks/{Guid.NewGuid()}/reachability?at=1"), 404);
    }

    [Fact]
    public async Task time_travel_state_shows_groups_policies_routes_and_the_default_policy_as_they_were()
    {
        var mesh = await MeshAsync();
        var ops = await GroupAsync(mesh, "ops", mesh.Laptop);
        await PolicyAsync(mesh, "ssh", new { groups = new[] { ops } }, new { peers = new[] { mesh.Server } }, ["tcp/22"]);
        await OkAsync(await Admin.PostAsJsonAsync($"{mesh.Url}/routes", new { cidr = "192.168.50.0/24", via = mesh.Server, groups = new[] { ops } }),
            HttpStatusCode.Created);
        var then = App.Clock.GetUtcNow();
        App.Clock.Advance(TimeSpan.FromMinutes(5));
        await DenyByDefaultAsync(mesh);
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"{mesh.Url}/peers/{mesh.Laptop}")).StatusCode);

        var past = await OkAsync(await Admin.GetAsync($"{mesh.Url}/state?at={Uri.EscapeDataString(then.ToString("O"))}"));
        Assert.Equal("allow", past.GetProperty("network").GetProperty("defaultPolicy").GetString());
        Assert.Equal(["laptop"], Names(past.GetProperty("groups")[0].GetProperty("members")));
        Assert.Equal(["ops"], Names(past.GetProperty("policies")[0].GetProperty("sources").GetProperty("groups")));
        Assert.Equal("192.168.50.0/24", past.GetProperty("routes")[0].GetProperty("cidr").GetString());
        var laptop = past.GetProperty("peers").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "laptop");
        Assert.Equal(["ops"], Names(laptop.GetProperty("groups")));

        var now = await OkAsync(await Admin.GetAsync($"{mesh.Url}/state"));
        Assert.Equal("deny", now.GetProperty("network").GetProperty("defaultPolicy").GetString());
        Assert.Empty(now.GetProperty("groups")[0].GetProperty("members").EnumerateArray());
    }

    [Fact]
    public async Task the_timeline_tells_who_changed_groups_policies_routes_and_the_default_policy()
    {
        var mesh = await MeshAsync();
        var ops = await GroupAsync(mesh, "ops", mesh.Laptop);
        var policy = (await PolicyAsync(mesh, "ssh", new { groups = new[] { ops } }, new { peers = new[] { mesh.Server } }, ["tcp/22"])).GetProperty("id").GetGuid();
        var route = (await OkAsync(await Admin.PostAsJsonAsync($"{mesh.Url}/routes", new { cidr = "0.0.0.0/0", via = mesh.Server }), HttpStatusCode.Created))
            .GetProperty("id").GetGuid();
        await DenyByDefaultAsync(mesh);
        await OkAsync(await Admin.PatchAsJsonAsync($"{mesh.Url}/groups/{ops}", new { name = "operators" }));
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"{mesh.Url}/routes/{route}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"{mesh.Url}/policies/{policy}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"{mesh.Url}/groups/{ops}")).StatusCode);

        var items = (await OkAsync(await Admin.GetAsync($"{mesh.Url}/timeline?limit=500"))).GetProperty("items").EnumerateArray().ToList();
        var sequences = items.Select(i => i.GetProperty("sequence").GetInt64()).ToList();
        Assert.Equal(sequences.Order(), sequences);
        var summaries = items.Select(i => i.GetProperty("summary").GetString()!).ToList();
        Assert.Contains("bootstrap-admin created group ops", summaries);
        Assert.Contains("bootstrap-admin set the members of group ops: laptop", summaries);
        Assert.Contains("bootstrap-admin created policy ssh: group ops → peer server on tcp/22", summaries);
        Assert.Contains("bootstrap-admin made peer server an exit node (0.0.0.0/0)", summaries);
        Assert.Contains("bootstrap-admin set the default policy of network corp to deny", summaries);
        Assert.Contains("bootstrap-admin renamed group ops to operators", summaries);
        Assert.Contains("bootstrap-admin removed route 0.0.0.0/0 via peer server", summaries);
        Assert.Contains("bootstrap-admin deleted policy ssh", summaries);
        Assert.Contains("bootstrap-admin deleted group operators", summaries);
        var subject = items.Single(i => i.GetProperty("type").GetString() == "PolicyCreated").GetProperty("subject");
        Assert.Equal(("policy", policy, "ssh"), (subject.GetProperty("kind").GetString(), subject.GetProperty("id").GetGuid(), subject.GetProperty("name").GetString()));
    }
}
