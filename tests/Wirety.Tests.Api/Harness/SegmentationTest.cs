using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Wirety.Tests.Api.Harness;

/// <summary>
/// Base for group, policy, route and reachability tests: a network with a jump and a few peers, and helpers
/// that create groups and policies over the API.
/// </summary>
public abstract class SegmentationTest(WiretyApp app) : ApiTest(app)
{
    protected sealed record Mesh(Guid Net, Guid Jump, Guid Laptop, Guid Server, Guid Db)
    {
        public string Url => $"/api/v1/networks/{Net}";
    }

    /// <summary>corp 10.10.0.0/24: jump (endpoint 198.18.0.1), laptop, server and db (dynamic; db declares 198.18.0.4).</summary>
    protected async Task<Mesh> MeshAsync()
    {
        var net = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        async Task<Guid> Peer(object body) => (await CreatePeerAsync(net, body)).GetProperty("id").GetGuid();
        return new Mesh(net,
            await Peer(new { name = "jump", kind = "jump", endpoint = "198.18.0.1:51820" }),
            await Peer(new { name = "laptop", kind = "dynamic" }),
            await Peer(new { name = "server", kind = "dynamic" }),
            await Peer(new { name = "db", kind = "dynamic", endpoint = "198.18.0.4:51820" }));
    }

    protected async Task<long> VersionAsync(Guid net) =>
        (await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{net}"))).GetProperty("version").GetInt64();

    protected async Task<JsonElement> OkAsync(HttpResponseMessage response, HttpStatusCode status = HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    protected async Task<Guid> GroupAsync(Mesh mesh, string name, params Guid[] members)
    {
        var group = await OkAsync(await Admin.PostAsJsonAsync($"{mesh.Url}/groups", new { name }), HttpStatusCode.Created);
        var id = group.GetProperty("id").GetGuid();
        if (members.Length > 0) await OkAsync(await Admin.PutAsJsonAsync($"{mesh.Url}/groups/{id}/members", new { peerIds = members }));
        return id;
    }

    protected async Task<JsonElement> PolicyAsync(Mesh mesh, string name, object sources, object destinations, string[]? ports = null) =>
        await OkAsync(await Admin.PostAsJsonAsync($"{mesh.Url}/policies", new { name, sources, destinations, ports }), HttpStatusCode.Created);

    protected async Task DenyByDefaultAsync(Mesh mesh) =>
        await OkAsync(await Admin.PatchAsJsonAsync(mesh.Url, new { defaultPolicy = "deny" }));

    /// <summary>A refused request must leave the network's stream where it was.</summary>
    protected async Task<JsonElement> AssertRefusedOnAsync(Guid net, Func<Task<HttpResponseMessage>> request, int status)
    {
        var version = await VersionAsync(net);
        var problem = await AssertRefusedAsync(request, status);
        Assert.Equal(version, await VersionAsync(net));
        return problem;
    }

    protected static StringContent Raw(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    protected static IEnumerable<string> Names(JsonElement refs) => refs.EnumerateArray().Select(r => r.GetProperty("name").GetString()!);
}
