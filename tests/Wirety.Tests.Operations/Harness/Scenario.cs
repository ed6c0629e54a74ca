using Wirety.Testing;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Wirety.Server.Peers;

namespace Wirety.Tests.Operations.Harness;

/// <summary>
/// A realistic history made through the real API, touching every projection and document type: two
/// networks (one deleted), jump/dynamic/static/isolated peers, enrollments and re-enrollment,
/// heartbeats with endpoints (a mesh), an update, a block and unblock, a security change, a detected
/// session-conflict incident that is resolved, an issued and a revoked API token, a removed peer.
/// </summary>
public sealed class Scenario(OperationsApp app)
{
    public sealed record Agent(Guid PeerId, Guid NetworkId, HttpClient Client);

    public Guid Network { get; private set; }
    public List<Guid> Peers { get; } = [];
    public List<Agent> Agents { get; } = [];

    public async Task BuildAsync()
    {
        var admin = app.Admin;
        Network = await IdAsync(await admin.PostAsJsonAsync("/api/v1/networks",
            new { name = "corp", cidr = "10.10.0.0/24", domain = "corp.internal", dns = new[] { "10.10.0.1" } }));
        var jumpToken = await PeerAsync(Network, new { name = "hub", kind = "jump", endpoint = "198.18.0.1:51820", listenPort = 51820 });
        var jump = await EnrollAsync(jumpToken, "hub");
        var a = await EnrollAsync(await PeerAsync(Network, new { name = "a", kind = "dynamic" }), "a");
        var b = await EnrollAsync(await PeerAsync(Network, new { name = "b", kind = "dynamic", additionalAllowedIps = new[] { "192.168.50.0/24" } }), "b");
        await PeerAsync(Network, new { name = "phone", kind = "static" });
        await PeerAsync(Network, new { name = "kiosk", kind = "dynamic", isolated = true });
        var gone = await PeerAsync(Network, new { name = "gone", kind = "static" });

        for (var i = 0; i < 5; i++)
        {
            await HeartbeatAsync(jump, 51820, ["198.18.0.1:51820"]);
            await HeartbeatAsync(a, 51001, ["198.18.0.11:51001"]);
            await HeartbeatAsync(b, 51002, ["198.18.0.12:51002"]);
            app.Clock.Advance(TimeSpan.FromSeconds(30));
        }

        var peers = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/networks/{Network}/peers");
        Peers.AddRange(peers.EnumerateArray().Select(p => p.GetProperty("id").GetGuid()));
        Ok(await admin.PatchAsJsonAsync($"/api/v1/networks/{Network}/peers/{a.PeerId}", new { additionalAllowedIps = new[] { "192.168.60.0/24" } }));
        Ok(await admin.PostAsJsonAsync($"/api/v1/networks/{Network}/peers/{b.PeerId}/block", new { reason = "lost laptop" }));
        Ok(await admin.PostAsJsonAsync($"/api/v1/networks/{Network}/peers/{b.PeerId}/unblock", new { }));
        Ok(await admin.PutAsJsonAsync($"/api/v1/networks/{Network}/security", new
        {
            enabled = true, sessionConflictWindow = "00:10:00", sharedConfigFlips = 3, sharedConfigWindow = "00:05:00", maxEndpointChangesPerDay = 20,
        }));
        Ok(await admin.DeleteAsync($"/api/v1/networks/{Network}/peers/{gone}"));

        // The same identity in two places (A, B, A): detection opens an incident and blocks the peer.
        await HeartbeatAsync(a, 51001, ["198.18.0.11:51001"], from: "198.18.0.11");
        await HeartbeatAsync(a, 51001, ["198.18.0.99:51001"], from: "198.18.0.99");
        await HeartbeatAsync(a, 51001, ["198.18.0.11:51001"], from: "198.18.0.11");
        var incident = await EventuallyAsync(async () =>
        {
            var open = await admin.GetFromJsonAsync<JsonElement>("/api/v1/incidents?state=open");
            return open.GetArrayLength() > 0 ? open[0].GetProperty("id").GetGuid() : (Guid?)null;
        }, "an incident is detected");
        Ok(await admin.PostAsJsonAsync($"/api/v1/incidents/{incident}/resolve", new { note = "it was the admin's own VM", unblock = true }));

        // Re-enrollment of b voids its old session; a fresh token for kiosk voids nothing used.
        var again = await admin.PostAsJsonAsync($"/api/v1/networks/{Network}/peers/{b.PeerId}/enrollment-token", new { });
        Ok(again);
        await EnrollAsync((await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("enrollmentToken").GetString()!, "b2");

        var token = await IdAsync(await admin.PostAsJsonAsync("/api/v1/tokens", new { name = "ci", role = "admin" }));
        await IdAsync(await admin.PostAsJsonAsync("/api/v1/tokens", new { name = "backup-robot", role = "admin" }));
        Ok(await admin.DeleteAsync($"/api/v1/tokens/{token}"));

        var lab = await IdAsync(await admin.PostAsJsonAsync("/api/v1/networks", new { name = "lab", cidr = "10.20.0.0/24" }));
        await PeerAsync(lab, new { name = "bench", kind = "static" });
        Ok(await admin.DeleteAsync($"/api/v1/networks/{lab}?force=true"));
        await QuiesceAsync();
    }

    public async Task<HttpResponseMessage> HeartbeatAsync(Agent agent, int listenPort, string[] endpoints, string? from = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/agent/heartbeat")
        {
            Content = JsonContent.Create(new { hostname = "host", listenPort, endpoints, uptimeSeconds = 5, peerStats = Array.Empty<object>() }),
        };
        if (from is not null) request.Headers.Add(TestRemoteAddress.Header, from);
        var response = await agent.Client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        return response;
    }

    private async Task<string> PeerAsync(Guid network, object peer)
    {
        var response = await app.Admin.PostAsJsonAsync($"/api/v1/networks/{network}/peers", peer);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.TryGetProperty("enrollmentToken", out var t) && t.ValueKind == JsonValueKind.String
            ? t.GetString()!
            : body.GetProperty("id").GetGuid().ToString();
    }

    private async Task<Agent> EnrollAsync(string token, string hostname)
    {
        var keys = WireGuardKeyPair.Generate();
        var response = await app.Client(null).PostAsJsonAsync("/api/v1/agent/enroll", new { token, publicKey = keys.PublicKey, hostname, agentVersion = "test" });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var agent = new Agent(body.GetProperty("peerId").GetGuid(), body.GetProperty("networkId").GetGuid(),
            app.Client(body.GetProperty("sessionToken").GetString()));
        Agents.Add(agent);
        return agent;
    }

    private static async Task<Guid> IdAsync(HttpResponseMessage response)
    {
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private static void Ok(HttpResponseMessage response) =>
        Assert.True(response.IsSuccessStatusCode, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {(int)response.StatusCode} "
                                                 + response.Content.ReadAsStringAsync().Result);

    /// <summary>Polls an observable condition (detection runs off the request path) with a deadline.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, string what) where T : struct
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            if (await probe() is { } value) return value;
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting until {what}.");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Waits until detection (a background handler) has written everything for the heartbeats sent:
    /// two snapshots of the store taken a moment apart are equal.
    /// </summary>
    public async Task QuiesceAsync()
    {
        var previous = await StoreSnapshot.TakeAsync(app.ConnectionString);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            await Task.Delay(200);
            var current = await StoreSnapshot.TakeAsync(app.ConnectionString);
            if (current.Differences(previous).Count == 0) return;
            if (DateTime.UtcNow > deadline) Assert.Fail("The store kept changing after the scenario.");
            previous = current;
        }
    }
}
