using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Policies;

public sealed class PolicyTests(WiretyApp app) : SegmentationTest(app)
{
    [Fact]
    public async Task a_policy_can_be_created_read_listed_changed_and_deleted()
    {
        var mesh = await MeshAsync();
        var ops = await GroupAsync(mesh, "ops", mesh.Laptop);
        var created = await Admin.PostAsJsonAsync($"{mesh.Url}/policies", new
        {
            name = "ssh", description = "admins to servers",
            sources = new { groups = new[] { ops } },
            destinations = new { peers = new[] { mesh.Server, mesh.Db } },
            ports = new[] { "udp/53", "tcp/22", "tcp/22", "tcp/1-65535", "icmp" },
        });
        var policy = await OkAsync(created, HttpStatusCode.Created);
        var id = policy.GetProperty("id").GetGuid();
        Assert.Equal($"{mesh.Url}/policies/{id}", created.Headers.Location?.ToString());
        // Canonical: each rule once, in protocol then port order; tcp/1-65535 is "tcp".
        Assert.Equal(["tcp", "tcp/22", "udp/53", "icmp"], policy.GetProperty("ports").EnumerateArray().Select(p => p.GetString()!));
        Assert.Equal(["ops"], Names(policy.GetProperty("sources").GetProperty("groups")));
        Assert.Empty(policy.GetProperty("sources").GetProperty("peers").EnumerateArray());
        Assert.Equal(["db", "server"], Names(policy.GetProperty("destinations").GetProperty("peers")).Order());

        Assert.Equal(policy.ToString(), (await OkAsync(await Admin.GetAsync($"{mesh.Url}/policies/{id}"))).ToString());
        Assert.Single((await OkAsync(await Admin.GetAsync($"{mesh.Url}/policies"))).EnumerateArray());

        var changed = await OkAsync(await Admin.PatchAsJsonAsync($"{mesh.Url}/policies/{id}", new { ports = Array.Empty<string>(), name = "all" }));
        Assert.Empty(changed.GetProperty("ports").EnumerateArray());
        Assert.Equal("all", changed.GetProperty("name").GetString());
        Assert.Equal("admins to servers", changed.GetProperty("description").GetString());
        Assert.Equal(["db", "server"], Names(changed.GetProperty("destinations").GetProperty("peers")).Order());

        var version = await VersionAsync(mesh.Net);
        await OkAsync(await Admin.PatchAsJsonAsync($"{mesh.Url}/policies/{id}", new { name = "all", ports = Array.Empty<string>() }));
        Assert.Equal(version, await VersionAsync(mesh.Net));

        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"{mesh.Url}/policies/{id}")).StatusCode);
        await AssertProblemAsync(await Admin.GetAsync($"{mesh.Url}/policies/{id}"), 404);
    }

    [Fact]
    public async Task policy_names_are_unique_in_a_network()
    {
        var mesh = await MeshAsync();
        await PolicyAsync(mesh, "ssh", new { peers = new[] { mesh.Laptop } }, new { peers = new[] { mesh.Server } });
        var web = (await PolicyAsync(mesh, "web", new { peers = new[] { mesh.Laptop } }, new { peers = new[] { mesh.Db } })).GetProperty("id").GetGuid();
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsJsonAsync($"{mesh.Url}/policies",
            new { name = "SSH", sources = new { peers = new[] { mesh.Db } }, destinations = new { peers = new[] { mesh.Server } } }), 409);
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PatchAsJsonAsync($"{mesh.Url}/policies/{web}", new { name = "ssh" }), 409);
    }

    public static TheoryData<string, string> BadPolicies => new()
    {
        { """{"sources":{"peers":["LAPTOP"]},"destinations":{"peers":["SERVER"]}}""", "name" },
        { """{"name":"p","destinations":{"peers":["SERVER"]}}""", "sources" },
        { """{"name":"p","sources":{},"destinations":{"peers":["SERVER"]}}""", "sources" },
        { """{"name":"p","sources":{"groups":[],"peers":[]},"destinations":{"peers":["SERVER"]}}""", "sources" },
        { """{"name":"p","sources":{"peers":["LAPTOP"]}}""", "destinations" },
        { """{"name":"p","sources":{"peers":["LAPTOP"]},"destinations":{"groups":null,"peers":null}}""", "destinations" },
        { """{"name":"p","sources":{"peers":["00000000-0000-0000-0000-000000000000"]},"destinations":{"peers":["SERVER"]}}""", "sources" },
        { """{"name":"p","sources":{"groups":["00000000-0000-0000-0000-000000000000"]},"destinations":{"peers":["SERVER"]}}""", "sources" },
        { """{"name":"p","sources":{"peers":["LAPTOP"]},"destinations":{"groups":["3f1c8a52-0000-4000-8000-000000000001"]}}""", "destinations" },
        { """{"name":"p","sources":{"peers":["LAPTOP"]},"destinations":{"peers":["SERVER"]},"ports":["ssh"]}""", "ports" },
        { """{"name":"p","sources":{"peers":["LAPTOP"]},"destinations":{"peers":["SERVER"]},"ports":["tcp/0"]}""", "ports" },
        { """{"name":"p","sources":{"peers":["LAPTOP"]},"destinations":{"peers":["SERVER"]},"ports":["tcp/65536"]}""", "ports" },
        { """{"name":"p","sources":{"peers":["LAPTOP"]},"destinations":{"peers":["SERVER"]},"ports":["tcp/100-22"]}""", "ports" },
        { """{"name":"p","sources":{"peers":["LAPTOP"]},"destinations":{"peers":["SERVER"]},"ports":["TCP/22"]}""", "ports" },
        { """{"name":"p","sources":{"peers":["LAPTOP"]},"destinations":{"peers":["SERVER"]},"ports":["icmp/8"]}""", "ports" },
        { """{"name":"p","sources":{"peers":["LAPTOP"]},"destinations":{"peers":["SERVER"]},"ports":["tcp/022"]}""", "ports" },
        { """{"name":"p","sources":{"peers":["LAPTOP"]},"destinations":{"peers":["SERVER"]},"ports":[""]}""", "ports" },
        { """{"name":"p","sources":{"peers":["LAPTOP"]},"destinations":{"peers":["SERVER"]},"ports":[null]}""", "ports" },
    };

    [Theory]
    [MemberData(nameof(BadPolicies))]
    public async Task an_invalid_policy_is_refused_naming_the_field_and_appends_nothing(string template, string field)
    {
        var mesh = await MeshAsync();
        var body = template.Replace("LAPTOP", mesh.Laptop.ToString()).Replace("SERVER", mesh.Server.ToString());
        var problem = await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsync($"{mesh.Url}/policies", Raw(body)), 400);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task a_malformed_port_is_refused_with_the_port_rule_message()
    {
        var mesh = await MeshAsync();
        var problem = await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsJsonAsync($"{mesh.Url}/policies", new
        {
            name = "p", sources = new { peers = new[] { mesh.Laptop } }, destinations = new { peers = new[] { mesh.Server } }, ports = new[] { "tcp/100-22" },
        }), 400);
        Assert.Contains("'tcp/100-22' is not a port rule: the range runs backwards.", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task unknown_ids_are_named_in_the_problem()
    {
        var mesh = await MeshAsync();
        var ghost = Guid.NewGuid();
        var problem = await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsJsonAsync($"{mesh.Url}/policies", new
        {
            name = "p", sources = new { peers = new[] { mesh.Laptop, ghost } }, destinations = new { groups = new[] { ghost } },
        }), 400);
        var errors = problem.GetProperty("errors");
        Assert.Contains(ghost.ToString(), errors.GetProperty("sources")[0].GetString());
        Assert.Contains(ghost.ToString(), errors.GetProperty("destinations")[0].GetString());
    }

    [Theory]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("{\"name\":\"p\",\"sources\":\"everyone\"}")]
    [InlineData("{\"name\":\"p\",\"sources\":{\"peers\":[1]}}")]
    [InlineData("{\"name\":\"p\",\"ports\":\"tcp/22\"}")]
    [InlineData("{\"name\":")]
    public async Task a_garbage_body_is_a_400_for_create_and_patch(string body)
    {
        var mesh = await MeshAsync();
        var id = (await PolicyAsync(mesh, "ssh", new { peers = new[] { mesh.Laptop } }, new { peers = new[] { mesh.Server } })).GetProperty("id").GetGuid();
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsync($"{mesh.Url}/policies", Raw(body)), 400);
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PatchAsync($"{mesh.Url}/policies/{id}", Raw(body)), 400);
    }

    [Fact]
    public async Task a_patch_validates_what_it_changes()
    {
        var mesh = await MeshAsync();
        var id = (await PolicyAsync(mesh, "ssh", new { peers = new[] { mesh.Laptop } }, new { peers = new[] { mesh.Server } }, ["tcp/22"]))
            .GetProperty("id").GetGuid();
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PatchAsJsonAsync($"{mesh.Url}/policies/{id}", new { sources = new { peers = Array.Empty<Guid>() } }), 400);
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PatchAsJsonAsync($"{mesh.Url}/policies/{id}", new { destinations = new { peers = new[] { Guid.Empty } } }), 400);
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PatchAsJsonAsync($"{mesh.Url}/policies/{id}", new { ports = new[] { "http" } }), 400);
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PatchAsJsonAsync($"{mesh.Url}/policies/{id}", new { name = "no/slash" }), 400);
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PatchAsync($"{mesh.Url}/policies/{id}", Raw("null")), 400);
        var policy = await OkAsync(await Admin.GetAsync($"{mesh.Url}/policies/{id}"));
        Assert.Equal(["tcp/22"], policy.GetProperty("ports").EnumerateArray().Select(p => p.GetString()!));
    }

    [Fact]
    public async Task unknown_and_nil_ids_answer_404_in_every_id_position()
    {
        var mesh = await MeshAsync();
        var policy = (await PolicyAsync(mesh, "ssh", new { peers = new[] { mesh.Laptop } }, new { peers = new[] { mesh.Server } })).GetProperty("id").GetGuid();
        var body = new { name = "p", sources = new { peers = new[] { mesh.Laptop } }, destinations = new { peers = new[] { mesh.Server } } };
        foreach (var net in new[] { Guid.Empty, Guid.NewGuid() })
        {
            await AssertProblemAsync(await Admin.GetAsync($"/api/v1/networks/{net}/policies"), 404);
            await AssertRefusedAsync(() => Admin.PostAsJsonAsync($"/api/v1/networks/{net}/policies", body), 404);
            await AssertProblemAsync(await Admin.GetAsync($"/api/v1/networks/{net}/policies/{policy}"), 404);
            await AssertRefusedAsync(() => Admin.PatchAsJsonAsync($"/api/v1/networks/{net}/policies/{policy}", new { name = "x" }), 404);
            await AssertRefusedAsync(() => Admin.DeleteAsync($"/api/v1/networks/{net}/policies/{policy}"), 404);
            await AssertRefusedAsync(() => Admin.PostAsJsonAsync($"/api/v1/networks/{net}/policies/preview", new { }), 404);
        }
        foreach (var id in new[] { Guid.Empty, Guid.NewGuid() })
        {
            await AssertProblemAsync(await Admin.GetAsync($"{mesh.Url}/policies/{id}"), 404);
            await AssertRefusedOnAsync(mesh.Net, () => Admin.PatchAsJsonAsync($"{mesh.Url}/policies/{id}", new { name = "x" }), 404);
            await AssertRefusedOnAsync(mesh.Net, () => Admin.DeleteAsync($"{mesh.Url}/policies/{id}"), 404);
        }
    }

    [Fact]
    public async Task a_removed_peer_or_deleted_group_leaves_the_policies_that_named_it()
    {
        var mesh = await MeshAsync();
        var ops = await GroupAsync(mesh, "ops", mesh.Laptop);
        var id = (await PolicyAsync(mesh, "ssh", new { groups = new[] { ops }, peers = new[] { mesh.Db } }, new { peers = new[] { mesh.Server, mesh.Db } }))
            .GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"{mesh.Url}/peers/{mesh.Db}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"{mesh.Url}/groups/{ops}")).StatusCode);
        var policy = await OkAsync(await Admin.GetAsync($"{mesh.Url}/policies/{id}"));
        Assert.Empty(policy.GetProperty("sources").GetProperty("groups").EnumerateArray());
        Assert.Empty(policy.GetProperty("sources").GetProperty("peers").EnumerateArray());
        Assert.Equal(["server"], Names(policy.GetProperty("destinations").GetProperty("peers")));
    }

    [Fact]
    public async Task the_default_policy_is_set_on_the_network_and_anything_but_allow_or_deny_is_refused()
    {
        var mesh = await MeshAsync();
        Assert.Equal("allow", (await OkAsync(await Admin.GetAsync(mesh.Url))).GetProperty("defaultPolicy").GetString());
        var version = await VersionAsync(mesh.Net);

        var both = await OkAsync(await Admin.PatchAsJsonAsync(mesh.Url, new { defaultPolicy = "deny", name = "corp-eu" }));
        Assert.Equal(("deny", "corp-eu", version + 2), (both.GetProperty("defaultPolicy").GetString(), both.GetProperty("name").GetString(),
            both.GetProperty("version").GetInt64()));
        var events = (await BodyAsync(await Admin.GetAsync($"{mesh.Url}/events"))).EnumerateArray().ToList();
        Assert.Equal(["NetworkUpdated", "DefaultPolicyChanged"], events.TakeLast(2).Select(e => e.GetProperty("type").GetString()!));
        Assert.Equal(events[^2].GetProperty("sequence").GetInt64() + 1, events[^1].GetProperty("sequence").GetInt64());
        Assert.Equal("deny", (await OkAsync(await Admin.GetAsync(mesh.Url))).GetProperty("defaultPolicy").GetString());

        await OkAsync(await Admin.PatchAsJsonAsync(mesh.Url, new { defaultPolicy = "deny" }));
        Assert.Equal(version + 2, await VersionAsync(mesh.Net));

        foreach (var bad in new[] { "\"Deny\"", "\"block\"", "\"\"", "1", "true", "[\"deny\"]" })
            await AssertRefusedOnAsync(mesh.Net, () => Admin.PatchAsync(mesh.Url, Raw($"{{\"defaultPolicy\":{bad}}}")), 400);
        Assert.Equal("deny", (await OkAsync(await Admin.GetAsync(mesh.Url))).GetProperty("defaultPolicy").GetString());
    }

    [Fact]
    public async Task the_event_query_api_filters_by_the_new_event_types()
    {
        var mesh = await MeshAsync();
        await GroupAsync(mesh, "ops", mesh.Laptop);
        await PolicyAsync(mesh, "ssh", new { peers = new[] { mesh.Laptop } }, new { peers = new[] { mesh.Server } });
        await DenyByDefaultAsync(mesh);
        foreach (var type in new[] { "GroupCreated", "GroupMembersSet", "PolicyCreated", "DefaultPolicyChanged" })
        {
            var page = await OkAsync(await Admin.GetAsync($"/api/v1/events?type={type}&networkId={mesh.Net}"));
            var items = page.ValueKind == JsonValueKind.Array ? page : page.GetProperty("items");
            Assert.Equal(type, Assert.Single(items.EnumerateArray()).GetProperty("type").GetString());
        }
    }
}
