using System.Net;
using System.Net.Http.Json;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Groups;

public sealed class GroupTests(WiretyApp app) : SegmentationTest(app)
{
    [Fact]
    public async Task a_group_can_be_created_read_listed_renamed_filled_and_deleted()
    {
        var mesh = await MeshAsync();
        var created = await Admin.PostAsJsonAsync($"{mesh.Url}/groups", new { name = "ops", description = "operators" });
        var group = await OkAsync(created, HttpStatusCode.Created);
        var id = group.GetProperty("id").GetGuid();
        Assert.Equal($"{mesh.Url}/groups/{id}", created.Headers.Location?.ToString());
        Assert.Equal(("ops", "operators", mesh.Net), (group.GetProperty("name").GetString(), group.GetProperty("description").GetString(),
            group.GetProperty("networkId").GetGuid()));
        Assert.Empty(group.GetProperty("members").EnumerateArray());

        Assert.Equal(group.ToString(), (await OkAsync(await Admin.GetAsync($"{mesh.Url}/groups/{id}"))).ToString());
        Assert.Single((await OkAsync(await Admin.GetAsync($"{mesh.Url}/groups"))).EnumerateArray());

        var renamed = await OkAsync(await Admin.PatchAsJsonAsync($"{mesh.Url}/groups/{id}", new { name = "operators", description = "" }));
        Assert.Equal("operators", renamed.GetProperty("name").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, renamed.GetProperty("description").ValueKind);

        // Set semantics: repeats and order do not matter; members are sorted by id.
        var filled = await OkAsync(await Admin.PutAsJsonAsync($"{mesh.Url}/groups/{id}/members",
            new { peerIds = new[] { mesh.Server, mesh.Laptop, mesh.Server } }));
        var members = filled.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("id").GetGuid()).ToList();
        Assert.Equal(new[] { mesh.Laptop, mesh.Server }.Order(), members);
        Assert.Equal(["laptop", "server"], Names(filled.GetProperty("members")).Order());

        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"{mesh.Url}/groups/{id}")).StatusCode);
        await AssertProblemAsync(await Admin.GetAsync($"{mesh.Url}/groups/{id}"), 404);
        var types = await BodyAsync(await Admin.GetAsync($"{mesh.Url}/events"));
        Assert.Equal(["GroupCreated", "GroupUpdated", "GroupMembersSet", "GroupDeleted"],
            types.EnumerateArray().Select(e => e.GetProperty("type").GetString()!).Where(t => t.StartsWith("Group")).ToArray());
    }

    [Fact]
    public async Task repeating_a_rename_or_the_same_member_set_appends_nothing()
    {
        var mesh = await MeshAsync();
        var id = await GroupAsync(mesh, "ops", mesh.Laptop, mesh.Server);
        var version = await VersionAsync(mesh.Net);
        await OkAsync(await Admin.PutAsJsonAsync($"{mesh.Url}/groups/{id}/members", new { peerIds = new[] { mesh.Server, mesh.Laptop } }));
        await OkAsync(await Admin.PatchAsJsonAsync($"{mesh.Url}/groups/{id}", new { name = "ops" }));
        await OkAsync(await Admin.PatchAsJsonAsync($"{mesh.Url}/groups/{id}", new { }));
        Assert.Equal(version, await VersionAsync(mesh.Net));
    }

    [Fact]
    public async Task group_names_are_unique_in_a_network_whatever_their_case_but_not_across_networks()
    {
        var mesh = await MeshAsync();
        var ops = await GroupAsync(mesh, "ops");
        var dev = await GroupAsync(mesh, "dev");
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsJsonAsync($"{mesh.Url}/groups", new { name = "OPS" }), 409);
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PatchAsJsonAsync($"{mesh.Url}/groups/{dev}", new { name = "Ops" }), 409);
        // Renaming a group to its own name in another case is fine.
        await OkAsync(await Admin.PatchAsJsonAsync($"{mesh.Url}/groups/{ops}", new { name = "Ops" }));

        var other = (await CreateNetworkAsync("lab", "10.20.0.0/24")).GetProperty("id").GetGuid();
        await OkAsync(await Admin.PostAsJsonAsync($"/api/v1/networks/{other}/groups", new { name = "ops" }), HttpStatusCode.Created);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"name\":\"\"}")]
    [InlineData("{\"name\":\" ops\"}")]
    [InlineData("{\"name\":\"-ops\"}")]
    [InlineData("{\"name\":\"ops/eu\"}")]
    [InlineData("{\"name\":42}")]
    [InlineData("{\"name\":\"ops\",\"description\":7}")]
    [InlineData("null")]
    [InlineData("[1,2")]
    [InlineData("\"ops\"")]
    public async Task a_malformed_group_is_refused(string body)
    {
        var mesh = await MeshAsync();
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsync($"{mesh.Url}/groups", Raw(body)), 400);
    }

    [Fact]
    public async Task a_too_long_description_is_refused()
    {
        var mesh = await MeshAsync();
        var problem = await AssertRefusedOnAsync(mesh.Net, () => Admin.PostAsJsonAsync($"{mesh.Url}/groups",
            new { name = "ops", description = new string('x', 501) }), 400);
        Assert.True(problem.GetProperty("errors").TryGetProperty("description", out _));
    }

    [Fact]
    public async Task members_must_be_peers_of_the_same_network_and_the_problem_names_the_strangers()
    {
        var mesh = await MeshAsync();
        var id = await GroupAsync(mesh, "ops");
        var other = (await CreateNetworkAsync("lab", "10.20.0.0/24")).GetProperty("id").GetGuid();
        var stranger = (await CreatePeerAsync(other, new { name = "stranger", kind = "dynamic" })).GetProperty("id").GetGuid();
        var unknown = Guid.NewGuid();

        var problem = await AssertRefusedOnAsync(mesh.Net, () => Admin.PutAsJsonAsync($"{mesh.Url}/groups/{id}/members",
            new { peerIds = new[] { mesh.Laptop, stranger, unknown, Guid.Empty } }), 400);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains(stranger.ToString(), detail);
        Assert.Contains(unknown.ToString(), detail);
        Assert.Contains(Guid.Empty.ToString(), detail);
        Assert.DoesNotContain(mesh.Laptop.ToString(), detail);

        await AssertRefusedOnAsync(mesh.Net, () => Admin.PutAsJsonAsync($"{mesh.Url}/groups/{id}/members", new { }), 400);
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PutAsync($"{mesh.Url}/groups/{id}/members", Raw("{\"peerIds\":[\"not-a-guid\"]}")), 400);
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PutAsync($"{mesh.Url}/groups/{id}/members", Raw("{\"peerIds\":\"x\"}")), 400);
        await AssertRefusedOnAsync(mesh.Net, () => Admin.PutAsync($"{mesh.Url}/groups/{id}/members", Raw("null")), 400);
        Assert.Empty((await OkAsync(await Admin.GetAsync($"{mesh.Url}/groups/{id}"))).GetProperty("members").EnumerateArray());
    }

    [Fact]
    public async Task unknown_and_nil_ids_answer_404_in_every_id_position()
    {
        var mesh = await MeshAsync();
        var group = await GroupAsync(mesh, "ops");
        foreach (var net in new[] { Guid.Empty, Guid.NewGuid() })
        {
            await AssertProblemAsync(await Admin.GetAsync($"/api/v1/networks/{net}/groups"), 404);
            await AssertRefusedAsync(() => Admin.PostAsJsonAsync($"/api/v1/networks/{net}/groups", new { name = "ops2" }), 404);
            await AssertProblemAsync(await Admin.GetAsync($"/api/v1/networks/{net}/groups/{group}"), 404);
            await AssertRefusedAsync(() => Admin.PatchAsJsonAsync($"/api/v1/networks/{net}/groups/{group}", new { name = "x" }), 404);
            await AssertRefusedAsync(() => Admin.DeleteAsync($"/api/v1/networks/{net}/groups/{group}"), 404);
            await AssertRefusedAsync(() => Admin.PutAsJsonAsync($"/api/v1/networks/{net}/groups/{group}/members", new { peerIds = Array.Empty<Guid>() }), 404);
        }
        foreach (var id in new[] { Guid.Empty, Guid.NewGuid() })
        {
            await AssertProblemAsync(await Admin.GetAsync($"{mesh.Url}/groups/{id}"), 404);
            await AssertRefusedOnAsync(mesh.Net, () => Admin.PatchAsJsonAsync($"{mesh.Url}/groups/{id}", new { name = "x" }), 404);
            await AssertRefusedOnAsync(mesh.Net, () => Admin.DeleteAsync($"{mesh.Url}/groups/{id}"), 404);
            await AssertRefusedOnAsync(mesh.Net, () => Admin.PutAsJsonAsync($"{mesh.Url}/groups/{id}/members", new { peerIds = new[] { mesh.Laptop } }), 404);
        }
        // Not a GUID at all: no route matches the id.
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync($"{mesh.Url}/groups/not-a-guid")).StatusCode);
    }

    [Fact]
    public async Task a_peer_shows_its_groups_and_leaves_them_when_removed()
    {
        var mesh = await MeshAsync();
        var ops = await GroupAsync(mesh, "ops", mesh.Laptop, mesh.Server);
        await GroupAsync(mesh, "dev", mesh.Laptop);

        var laptop = await OkAsync(await Admin.GetAsync($"{mesh.Url}/peers/{mesh.Laptop}"));
        Assert.Equal(["ops", "dev"], Names(laptop.GetProperty("groups")));
        var listed = (await OkAsync(await Admin.GetAsync($"{mesh.Url}/peers"))).EnumerateArray()
            .Single(p => p.GetProperty("id").GetGuid() == mesh.Server);
        Assert.Equal(["ops"], Names(listed.GetProperty("groups")));
        Assert.Empty((await OkAsync(await Admin.GetAsync($"{mesh.Url}/peers/{mesh.Db}"))).GetProperty("groups").EnumerateArray());

        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"{mesh.Url}/peers/{mesh.Laptop}")).StatusCode);
        var group = await OkAsync(await Admin.GetAsync($"{mesh.Url}/groups/{ops}"));
        Assert.Equal(["server"], Names(group.GetProperty("members")));
    }

    [Fact]
    public async Task a_group_that_is_the_only_audience_of_a_route_cannot_be_deleted_before_the_route()
    {
        var mesh = await MeshAsync();
        var ops = await GroupAsync(mesh, "ops", mesh.Laptop);
        var route = await OkAsync(await Admin.PostAsJsonAsync($"{mesh.Url}/routes",
            new { cidr = "192.168.50.0/24", via = mesh.Server, groups = new[] { ops } }), HttpStatusCode.Created);
        var problem = await AssertRefusedOnAsync(mesh.Net, () => Admin.DeleteAsync($"{mesh.Url}/groups/{ops}"), 409);
        Assert.Contains("192.168.50.0/24", problem.GetProperty("detail").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"{mesh.Url}/routes/{route.GetProperty("id").GetGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"{mesh.Url}/groups/{ops}")).StatusCode);
    }
}
