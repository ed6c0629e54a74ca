using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text.Json;

namespace Wirety.Tests.Cluster.Harness;

/// <summary>An enrolled agent: its session, the instance it enrolled through.</summary>
public sealed record Agent(Guid PeerId, Guid NetworkId, string SessionToken, string PublicKey);

/// <summary>The admin and agent protocol over HTTP, asserting statuses with the response body in the message.</summary>
public static class Api
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<JsonElement> ExpectAsync(this Task<HttpResponseMessage> call, HttpStatusCode expected, string what)
    {
        using var response = await call;
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{what}: expected HTTP {(int)expected}, got {(int)response.StatusCode}\n{text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public static async Task<Guid> CreateNetworkAsync(this HttpClient admin, string name, string cidr) =>
        (await admin.PostAsJsonAsync("/api/v1/networks", new { name, cidr }, Json).ExpectAsync(HttpStatusCode.Created, "create network"))
        .GetProperty("id").GetGuid();

    public static async Task<JsonElement> AddPeerAsync(this HttpClient admin, Guid networkId, object peer) =>
        await admin.PostAsJsonAsync($"/api/v1/networks/{networkId}/peers", peer, Json).ExpectAsync(HttpStatusCode.Created, "add peer");

    /// <summary>Adds a dynamic peer and enrolls an agent for it through <paramref name="node"/>.</summary>
    public static async Task<Agent> AddAndEnrollAsync(this HttpClient admin, ServerNode node, Guid networkId, string name)
    {
        var token = (await admin.AddPeerAsync(networkId, new { name, kind = "dynamic" })).GetProperty("enrollmentToken").GetString()!;
        var publicKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)); // the server only stores the public key
        using var anonymous = node.Client(null);
        var body = await anonymous.PostAsJsonAsync("/api/v1/agent/enroll", new { token, publicKey, hostname = name, agentVersion = "test" }, Json)
            .ExpectAsync(HttpStatusCode.OK, "enroll");
        return new Agent(body.GetProperty("peerId").GetGuid(), body.GetProperty("networkId").GetGuid(), body.GetProperty("sessionToken").GetString()!, publicKey);
    }

    public static async Task<JsonElement> HeartbeatAsync(this ServerNode node, Agent agent, int listenPort, params string[] endpoints)
    {
        using var client = node.Client(agent.SessionToken);
        return await client.PostAsJsonAsync("/api/v1/agent/heartbeat",
                new { hostname = "host", listenPort, endpoints, uptimeSeconds = 5, peerStats = Array.Empty<object>() }, Json)
            .ExpectAsync(HttpStatusCode.NoContent, "heartbeat");
    }

    /// <summary><c>GET /api/v1/agent/config</c> as the agent, optionally conditional.</summary>
    public static async Task<(HttpStatusCode Status, string? ETag, JsonElement Body)> AgentConfigAsync(this ServerNode node, Agent agent, string? ifNoneMatch = null)
    {
        using var client = node.Client(agent.SessionToken);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/agent/config");
        if (ifNoneMatch is not null) request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, response.Headers.ETag?.ToString(), text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public static async Task<HttpStatusCode> StatusAsync(this HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        return response.StatusCode;
    }

    /// <summary>The next message on the socket: a text message parsed as JSON, or the close.</summary>
    public static async Task<(WebSocketMessageType Type, JsonElement Message)> ReceiveAsync(this WebSocket socket, TimeSpan timeout)
    {
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(timeout);
        var result = await socket.ReceiveAsync(buffer, cts.Token);
        return result.MessageType == WebSocketMessageType.Text
            ? (result.MessageType, JsonDocument.Parse(buffer.AsMemory(0, result.Count)).RootElement.Clone())
            : (result.MessageType, default);
    }
}
