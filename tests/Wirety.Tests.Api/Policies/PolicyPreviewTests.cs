using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Policies;

public sealed class PolicyPreviewTests(WiretyApp app) : SegmentationTest(app)
{
    private static IEnumerable<string> Pairs(JsonElement list) => list.EnumerateArray().Select(p =>
        $"{p.GetProperty("from").GetProperty("name").GetString()}->{p.GetProperty("to").GetProperty("name").GetString()}"
        + $" {string.Join(",", p.GetProperty("ports").EnumerateArray().Select(x => x.GetString()))}");

    private async Task<JsonElement> PreviewAsync(Guid net, object body) =>
        await OkAsync(await Admin.PostAsJsonAsync($"/api/v1/networks/{net}/policies/preview", body));

    [Fact]
    public async Task switching_to_deny_with_one_policy_lists_what_is_kept_lost_and_appends_nothing()
    {
        var mesh = await MeshAsync();
        var events = await App.EventCountAsync();
        var version = await VersionAsync(mesh.Net);

        var preview = await PreviewAsync(mesh.Net, new
        {
            defaultPolicy = "deny",
            add = new[] { new { name = "ssh", sources = new { peers = new[] { mesh.Laptop } }, destinations = new { peers = new[] { mesh.Server } }, ports = new[] { "tcp/22" } } },
        });
        Assert.Empty(preview.GetProperty("gained").EnumerateArray());
        var lost = Pairs(preview.GetProperty("lost")).ToList();
        // Everything but laptop → server on tcp/22 is lost; that pair loses the rest of what it had.
        Assert.Contains("laptop->server tcp/1-21,tcp/23-65535,udp,icmp", lost);
        Assert.Contains("server->laptop ", lost);
        Assert.Contains("jump->db ", lost);
        Assert.Equal(4 * 3, lost.Count);
        Assert.False(preview.GetProperty("truncated").GetBoolean());
        // No agent has enrolled, so no entry changes; but every agent's filter does: allow-all becomes accept-nothing
        // (filters name enrolled peers only), and the jump stops relaying.
        Assert.Equal(4, preview.GetProperty("configsChanged").GetInt32());

        Assert.Equal(events, await App.EventCountAsync());
        Assert.Equal(version, await VersionAsync(mesh.Net));
        Assert.Empty((await OkAsync(await Admin.GetAsync($"{mesh.Url}/policies"))).EnumerateArray());
        Assert.Equal("allow", (await OkAsync(await Admin.GetAsync(mesh.Url))).GetProperty("defaultPolicy").GetString());
    }

    [Fact]
    public async Task removing_and_widening_policies_under_deny_shows_the_gains_and_losses()
    {
        var mesh = await MeshAsync();
        await DenyByDefaultAsync(mesh);
        var ops = await GroupAsync(mesh, "ops", mesh.Laptop);
        var ssh = (await PolicyAsync(mesh, "ssh", new { groups = new[] { ops } }, new { peers = new[] { mesh.Server } }, ["tcp/22"])).GetProperty("id").GetGuid();
        var web = (await PolicyAsync(mesh, "web", new { peers = new[] { mesh.Laptop } }, new { peers = new[] { mesh.Db } }, ["tcp/443"])).GetProperty("id").GetGuid();
        var events = await App.EventCountAsync();

        var preview = await PreviewAsync(mesh.Net, new
        {
            remove = new[] { web },
            update = new[] { new { id = ssh, ports = new[] { "tcp/22", "tcp/80" } } },
        });
        Assert.Equal(["laptop->server tcp/80"], Pairs(preview.GetProperty("gained")));
        Assert.Equal(["laptop->db tcp/443"], Pairs(preview.GetProperty("lost")));
        Assert.Equal(events, await App.EventCountAsync());

        // Removing a policy and adding one of the same name in one preview is fine: removals come first.
        preview = await PreviewAsync(mesh.Net, new
        {
            remove = new[] { web },
            add = new[] { new { name = "web", sources = new { peers = new[] { mesh.Laptop } }, destinations = new { peers = new[] { mesh.Db } }, ports = new[] { "tcp/443" } } },
        });
        Assert.Empty(preview.GetProperty("gained").EnumerateArray());
        Assert.Empty(preview.GetProperty("lost").EnumerateArray());
    }

    [Fact]
    public async Task an_empty_preview_changes_nothing()
    {
        var mesh = await MeshAsync();
        var preview = await PreviewAsync(mesh.Net, new { });
        Assert.Empty(preview.GetProperty("gained").EnumerateArray());
        Assert.Empty(preview.GetProperty("lost").EnumerateArray());
        Assert.Equal(0, preview.GetProperty("configsChanged").GetInt32());
    }

    [Fact]
    public async Task each_item_is_validated_like_the_real_change_and_the_problem_names_the_item()
    {
        var mesh = await MeshAsync();
        var ssh = (await PolicyAsync(mesh, "ssh", new { peers = new[] { mesh.Laptop } }, new { peers = new[] { mesh.Server } })).GetProperty("id").GetGuid();
        var good = new { name = "web", sources = new { peers = new[] { mesh.Laptop } }, destinations = new { peers = new[] { mesh.Db } } };
        var url = $"{mesh.Url}/policies/preview";

        var problem = await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsJsonAsync(url, new
        {
            add = new object[] { good, new { name = "bad", sources = new { peers = Array.Empty<Guid>() }, destinations = new { peers = new[] { mesh.Db } } } },
        }), 400);
        Assert.True(problem.GetProperty("errors").TryGetProperty("add[1].sources", out _), problem.ToString());

        problem = await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsJsonAsync(url, new { add = new object[] { good with { name = "SSH" } } }), 409);
        Assert.StartsWith("add[0]:", problem.GetProperty("detail").GetString());
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsJsonAsync(url, new { add = new object[] { good, good } }), 409);
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsJsonAsync(url, new
        {
            add = new object[] { new { name = "p", sources = new { peers = new[] { mesh.Laptop } }, destinations = new { peers = new[] { mesh.Db } }, ports = new[] { "tcp/99999" } } },
        }), 400);

        foreach (var id in new[] { Guid.Empty, Guid.NewGuid() })
        {
            problem = await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsJsonAsync(url, new { remove = new[] { id } }), 400);
            Assert.Contains(id.ToString(), problem.GetProperty("detail").GetString());
            await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsJsonAsync(url, new { update = new[] { new { id, name = "x" } } }), 400);
        }
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsJsonAsync(url, new { remove = new[] { ssh, ssh } }), 400);
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsJsonAsync(url, new { remove = new[] { ssh }, update = new[] { new { id = ssh, name = "x" } } }), 400);
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsJsonAsync(url, new { update = new[] { new { name = "x" } } }), 400);
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsJsonAsync(url, new { update = new[] { new { id = ssh, destinations = new { peers = new[] { Guid.Empty } } } } }), 400);
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsJsonAsync(url, new { defaultPolicy = "block" }), 400);
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsJsonAsync(url, new { remove = Enumerable.Repeat(ssh, 201).ToArray() }), 400);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("{\"add\":{}}")]
    [InlineData("{\"add\":[null]}")]
    [InlineData("{\"add\":[1]}")]
    [InlineData("{\"remove\":[\"x\"]}")]
    [InlineData("{\"remove\":[null]}")]
    [InlineData("{\"update\":[null]}")]
    [InlineData("{\"update\":[{\"id\":\"x\"}]}")]
    [InlineData("{\"defaultPolicy\":true}")]
    [InlineData("{\"add\":")]
    public async Task a_garbage_preview_body_is_a_400(string body)
    {
        var mesh = await MeshAsync();
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsync($"{mesh.Url}/policies/preview", Raw(body)), 400);
    }
}
