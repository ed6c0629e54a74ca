using System.Net.Http.Json;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Policies;

/// <summary>Every segmentation write endpoint against a spread of malformed bodies: a 4xx problem each time, never a 5xx, nothing appended.</summary>
public sealed class SegmentationGarbageTests(WiretyApp app) : SegmentationTest(app)
{
    private static readonly string[] Bodies =
    [
        "", "null", "true", "0", "\"x\"", "[]", "[null]", "{", "{}}", "{\"name\":null}", "{\"name\":{}}", "{\"name\":[\"a\"]}",
        "{\"name\":\"" + new string('a', 5000) + "\"}", "{\"name\":\"\\u0000\"}", "{\"peerIds\":[null]}", "{\"peerIds\":[\"00000000-0000-0000-0000-00000000000g\"]}",
        "{\"sources\":{\"groups\":{}}}", "{\"ports\":[1,2]}", "{\"ports\":[\"tcp/1-\"]}", "{\"ports\":[\"tcp/-1\"]}", "{\"ports\":[\"tcp/99999999999999999999\"]}",
        "{\"cidr\":\"10.0.0.0/-1\",\"via\":\"00000000-0000-0000-0000-000000000000\"}", "{\"cidr\":\"0.0.0.0/0\"}", "{\"cidr\":\"::/0\",\"via\":null}",
        "{\"defaultPolicy\":null,\"name\":\"\"}", "{\"add\":[{}],\"remove\":[],\"update\":[{}]}", "{\"remove\":[\"00000000-0000-0000-0000-000000000000\"]}",
        "{\"description\":\"" + new string('d', 600) + "\",\"name\":\"ok\"}",
    ];

    [Fact]
    public async Task no_malformed_body_gets_anything_but_a_client_problem()
    {
        var mesh = await MeshAsync();
        var group = await GroupAsync(mesh, "ops", mesh.Laptop);
        var policy = (await PolicyAsync(mesh, "ssh", new { groups = new[] { group } }, new { peers = new[] { mesh.Server } })).GetProperty("id").GetGuid();
        var endpoints = new (HttpMethod Method, string Path)[]
        {
            (HttpMethod.Post, $"{mesh.Url}/groups"), (HttpMethod.Patch, $"{mesh.Url}/groups/{group}"), (HttpMethod.Put, $"{mesh.Url}/groups/{group}/members"),
            (HttpMethod.Post, $"{mesh.Url}/policies"), (HttpMethod.Patch, $"{mesh.Url}/policies/{policy}"), (HttpMethod.Post, $"{mesh.Url}/policies/preview"),
            (HttpMethod.Post, $"{mesh.Url}/routes"), (HttpMethod.Patch, mesh.Url),
        };
        foreach (var (method, path) in endpoints)
            foreach (var body in Bodies)
            {
                var before = await App.EventCountAsync();
                var response = await Admin.SendAsync(new HttpRequestMessage(method, path) { Content = Raw(body) });
                var status = (int)response.StatusCode;
                var text = await response.Content.ReadAsStringAsync();
                Assert.True(status < 500, $"{method} {path} with {body[..Math.Min(body.Length, 80)]}: {status} {text}");
                if (status >= 400)
                {
                    Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                    Assert.Equal(before, await App.EventCountAsync());
                }
            }
    }
}
