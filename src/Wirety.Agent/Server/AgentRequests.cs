using System.Net.Http.Headers;
using System.Text.Json;
using Wirety.Agent.Identity;
using Wirety.Events.Agent;

namespace Wirety.Agent.Server;

/// <summary>
/// Every HTTP request the agent sends, built in one place so a test can inspect them all (no
/// secret but the credential meant for that request may appear in them).
/// </summary>
public static class AgentRequests
{
    public static HttpRequestMessage Enroll(Uri server, EnrollRequest body) =>
        new(HttpMethod.Post, Endpoint(server, "enroll"))
        {
            Content = JsonBody(JsonSerializer.SerializeToUtf8Bytes(body, AgentProtocolJson.Default.EnrollRequest)),
        };

    public static HttpRequestMessage GetConfig(Uri server, Secret session, string? etag)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, Endpoint(server, "config"));
        request.Headers.Authorization = Bearer(session);
        if (etag is not null && EntityTagHeaderValue.TryParse(etag, out var tag)) request.Headers.IfNoneMatch.Add(tag);
        return request;
    }

    public static HttpRequestMessage Heartbeat(Uri server, Secret session, HeartbeatRequest body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Endpoint(server, "heartbeat"))
        {
            Content = JsonBody(JsonSerializer.SerializeToUtf8Bytes(body, AgentProtocolJson.Default.HeartbeatRequest)),
        };
        request.Headers.Authorization = Bearer(session);
        return request;
    }

    /// <summary><c>ws(s)://.../api/v1/agent/ws</c> for an http(s) server URL; with <c>?deltas=1</c> when <paramref name="deltas"/>.</summary>
    public static Uri WebSocket(Uri server, bool deltas = false)
    {
        var builder = new UriBuilder(Endpoint(server, "ws"));
        builder.Scheme = builder.Scheme == Uri.UriSchemeHttps ? "wss" : "ws";
        if (deltas) builder.Query = "deltas=1";
        return builder.Uri;
    }

    public static HttpRequestMessage RotateKey(Uri server, Secret session, RotateKeyRequest body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Endpoint(server, "rotate-key"))
        {
            Content = JsonBody(JsonSerializer.SerializeToUtf8Bytes(body, AgentProtocolJson.Default.RotateKeyRequest)),
        };
        request.Headers.Authorization = Bearer(session);
        return request;
    }

    public static string BearerValue(Secret session) => "Bearer " + session.Reveal();

    /// <summary>Resolves under the server URL, keeping a path prefix (https://host/wirety/ → https://host/wirety/api/v1/agent/...).</summary>
    public static Uri Endpoint(Uri server, string name)
    {
        ArgumentNullException.ThrowIfNull(server);
        var text = server.GetLeftPart(UriPartial.Path);
        var root = new Uri(text.EndsWith('/') ? text : text + "/");
        return new Uri(root, "api/v1/agent/" + name);
    }

    /// <summary>Buffered, so the request has a Content-Length (some proxies refuse chunked request bodies).</summary>
    private static ByteArrayContent JsonBody(byte[] utf8)
    {
        var content = new ByteArrayContent(utf8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }

    private static AuthenticationHeaderValue Bearer(Secret session) => new("Bearer", session.Reveal());
}
