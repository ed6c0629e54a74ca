using Wirety.Testing;
using System.Net.Http.Json;
using System.Text.Json;
using Wirety.Server.Peers;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Agents;

/// <summary>Helpers for tests that play the agent's side of the protocol over real HTTP.</summary>
public abstract class AgentTest(WiretyApp app) : ApiTest(app)
{
    public sealed record Enrolled(Guid PeerId, Guid NetworkId, string SessionToken, JsonElement Config, string PublicKey, HttpClient Client);

    protected async Task<(Guid Net, Guid Jump)> NetworkWithJumpAsync()
    {
        var net = (await CreateNetworkAsync("corp", "10.10.0.0/24")).GetProperty("id").GetGuid();
        var jump = await CreatePeerAsync(net, new { name = "hub", kind = "jump", endpoint = "198.18.0.1:51820", listenPort = 51820 });
        return (net, jump.GetProperty("id").GetGuid());
    }

    /// <summary>Two enrolled dynamic peers a and b whose endpoints are known, so they list each other directly.</summary>
    protected async Task<(Guid Net, Enrolled A, Enrolled B)> MeshedPairAsync()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var a = await EnrollAsync(await TokenForAsync(net, "a"));
        var b = await EnrollAsync(await TokenForAsync(net, "b"));
        await HeartbeatAsync(a, 51001, ["198.18.0.11:51001"]);
        await HeartbeatAsync(b, 51002, ["198.18.0.12:51002"]);
        await EventuallyAsync(async () => (await AgentConfigAsync(a)).GetProperty("peers").GetArrayLength() == 1, "mesh formed");
        return (net, a, b);
    }

    protected async Task<string> TokenForAsync(Guid net, string name, string kind = "dynamic") =>
        (await CreatePeerAsync(net, new { name, kind })).GetProperty("enrollmentToken").GetString()!;

    protected async Task<Enrolled> EnrollAsync(string token, string hostname = "host")
    {
        var keys = WireGuardKeyPair.Generate();
        var response = await App.Client(null).PostAsJsonAsync("/api/v1/agent/enroll",
            new { token, publicKey = keys.PublicKey, hostname, agentVersion = "test" });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var body = await BodyAsync(response);
        var session = body.GetProperty("sessionToken").GetString()!;
        return new Enrolled(body.GetProperty("peerId").GetGuid(), body.GetProperty("networkId").GetGuid(), session,
            body.GetProperty("config"), keys.PublicKey, App.Client(session));
    }

    protected static Task<HttpResponseMessage> HeartbeatAsync(Enrolled agent, int listenPort = 51820, string[]? endpoints = null, string? from = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/agent/heartbeat")
        {
            Content = JsonContent.Create(new { hostname = "host", listenPort, endpoints, uptimeSeconds = 5, peerStats = Array.Empty<object>() }),
        };
        if (from is not null) request.Headers.Add(TestRemoteAddress.Header, from);
        return agent.Client.SendAsync(request);
    }

    protected static async Task<JsonElement> AgentConfigAsync(Enrolled agent) =>
        await BodyAsync(await agent.Client.GetAsync("/api/v1/agent/config"));

    /// <summary>Polls an observable condition (work that runs off the request path) with a deadline.</summary>
    protected async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Timed out waiting until {what}. Server errors meanwhile:\n"
                    + string.Join("\n", App.Logs.Where(l => l.StartsWith("Error") || l.StartsWith("Critical")).TakeLast(5)));
            await Task.Delay(50);
        }
    }
}
