using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Wirety.Agent.Identity;
using Wirety.Events.Agent;

namespace Wirety.Agent.Server;

/// <summary>
/// The agent's HTTP calls to <c>/api/v1/agent/*</c>. Never throws for a server or network problem:
/// every result is a <see cref="ServerOutcome{T}"/>, so fail-static handling is a plain decision.
/// </summary>
public sealed class AgentApi : IDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _server;

    public AgentApi(Uri server, TimeSpan? timeout = null)
    {
        _server = server;
        _http = new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5), // pick up DNS changes of the server
            AutomaticDecompression = DecompressionMethods.All,
        })
        {
            Timeout = timeout ?? TimeSpan.FromSeconds(20),
        };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd($"wirety-agent/{AgentVersion.Current}");
    }

    public Task<ServerOutcome<EnrollResponse>> EnrollAsync(EnrollRequest body, CancellationToken ct) =>
        SendAsync<EnrollResponse>(AgentRequests.Enroll(_server, body), ct);

    public Task<ServerOutcome<AgentConfig>> GetConfigAsync(Secret session, string? etag, CancellationToken ct) =>
        SendAsync<AgentConfig>(AgentRequests.GetConfig(_server, session, etag), ct);

    public Task<ServerOutcome<RotateKeyResponse>> RotateKeyAsync(Secret session, RotateKeyRequest body, CancellationToken ct) =>
        SendAsync<RotateKeyResponse>(AgentRequests.RotateKey(_server, session, body), ct);

    public Task<ServerOutcome<bool>> HeartbeatAsync(Secret session, HeartbeatRequest body, CancellationToken ct) =>
        SendAsync<bool>(AgentRequests.Heartbeat(_server, session, body), ct, bodyless: true);

    private async Task<ServerOutcome<T>> SendAsync<T>(HttpRequestMessage request, CancellationToken ct, bool bodyless = false)
    {
        using (request)
        {
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return ServerOutcome<T>.Unreachable($"no answer from {_server.Authority} within {_http.Timeout.TotalSeconds:0} s");
            }
            catch (HttpRequestException e)
            {
                var reason = e.InnerException is { } inner && !e.Message.Contains(inner.Message, StringComparison.Ordinal)
                    ? $"{e.Message} ({inner.Message})"
                    : e.Message;
                return ServerOutcome<T>.Unreachable($"cannot reach {_server.Authority}: {reason}");
            }

            using (response)
            {
                var status = response.StatusCode;
                var etag = response.Headers.ETag?.ToString();
                if (status == HttpStatusCode.NotModified) return ServerOutcome<T>.NotModified(etag);
                if (response.IsSuccessStatusCode)
                {
                    if (bodyless) return ServerOutcome<T>.Ok((T)(object)true, etag);
                    try
                    {
                        var value = await response.Content.ReadFromJsonAsync<T>(AgentProtocolJson.Default.Options, ct).ConfigureAwait(false);
                        return value is null
                            ? ServerOutcome<T>.Unreachable("the server answered with an empty body", status)
                            : ServerOutcome<T>.Ok(value, etag);
                    }
                    catch (Exception e) when (e is JsonException or NotSupportedException or HttpRequestException)
                    {
                        return ServerOutcome<T>.Unreachable($"unreadable answer from the server: {e.Message}", status);
                    }
                }
                var detail = await ProblemDetailAsync(response, ct).ConfigureAwait(false);
                if (status == HttpStatusCode.Unauthorized) return ServerOutcome<T>.Unauthorized(detail);
                if ((int)status is >= 400 and < 500 && status != HttpStatusCode.RequestTimeout && status != HttpStatusCode.TooManyRequests)
                    return ServerOutcome<T>.Refused(status, detail);
                return ServerOutcome<T>.Unreachable($"server error {(int)status}: {detail}", status);
            }
        }
    }

    /// <summary>The detail (else title) of an RFC 7807 body, else the status text.</summary>
    private static async Task<string> ProblemDetailAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var fallback = $"{(int)response.StatusCode} {response.ReasonPhrase}".Trim();
        try
        {
            var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            if (string.IsNullOrWhiteSpace(text)) return fallback;
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return fallback;
            foreach (var name in (string[])["detail", "title"])
                if (doc.RootElement.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s)
                    return s.Length > 300 ? s[..300] + "…" : s;
            return fallback;
        }
        catch (Exception e) when (e is JsonException or HttpRequestException or OperationCanceledException)
        {
            return fallback;
        }
    }

    public void Dispose() => _http.Dispose();
}

public static class AgentVersion
{
    public static string Current { get; } =
        typeof(AgentVersion).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
}
