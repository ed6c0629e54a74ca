using Wirety.Testing;
using System.Net.Http.Json;
using System.Text.Json;
using Wirety.Server.Peers;
using Wirety.Tests.Api.Harness;
using Wolverine;
using Wolverine.Tracking;

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
        Assert.Equal(1, (await AgentConfigAsync(a)).GetProperty("peers").GetArrayLength());
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

    /// <summary>Sends a heartbeat and waits until the detection work it cascades (endpoint changes, incidents) is done.</summary>
    protected Task<HttpResponseMessage> HeartbeatAsync(Enrolled agent, int listenPort = 51820, string[]? endpoints = null, string? from = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/agent/heartbeat")
        {
            Content = JsonContent.Create(new { hostname = "host", listenPort, endpoints, uptimeSeconds = 5, peerStats = Array.Empty<object>() }),
        };
        if (from is not null) request.Headers.Add(TestRemoteAddress.Header, from);
        return AndCascadesAsync(() => agent.Client.SendAsync(request));
    }

    /// <summary>
    /// Runs a request in a Wolverine tracked session: returns once every message it published (a heartbeat's
    /// sighting) has been handled, and fails on a handler exception or after 15 s.
    /// </summary>
    protected async Task<T> AndCascadesAsync<T>(Func<Task<T>> request)
    {
        T result = default!;
        await App.Services.TrackActivity(TimeSpan.FromSeconds(15))
            .ExecuteAndWaitAsync((Func<IMessageContext, Task>)(async _ => result = await request()));
        return result;
    }

    protected static async Task<JsonElement> AgentConfigAsync(Enrolled agent) =>
        await BodyAsync(await agent.Client.GetAsync("/api/v1/agent/config"));

    /// <summary>Polls an observable condition (work off the request path that is not a Wolverine message) with a deadline.</summary>
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
