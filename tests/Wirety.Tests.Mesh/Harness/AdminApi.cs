using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Wirety.Tests.Mesh.Harness;

public sealed record NetworkDto(Guid Id, string Name, string Cidr, int? Mtu, long Version, string? DefaultPolicy = null);

public sealed record PeerDto(Guid Id, string Name, string Kind, string Address, string? PublicKey, bool Enrolled, bool Blocked, string? EnrollmentToken, bool Isolated = false);

/// <summary>A policy as <c>POST /api/v1/networks/{id}/policies</c> answers it (only what the test reads).</summary>
public sealed record PolicyDto(Guid Id, string? Name = null);

public sealed record ActorDto(Guid TokenId, string Name);

public sealed record EvidenceDto(Guid HeartbeatId, DateTimeOffset At, Guid SessionId, string SourceAddress, string? Endpoint)
{
    public override string ToString() => $"heartbeat {HeartbeatId} at {At:HH:mm:ss.fff} from {SourceAddress} (session {SessionId}, endpoint {Endpoint ?? "none"})";
}

public sealed record IncidentDto(
    Guid Id, Guid NetworkId, Guid PeerId, string Type, string State, string Summary, IReadOnlyList<EvidenceDto> Evidence,
    DateTimeOffset DetectedAt, DateTimeOffset? ResolvedAt, ActorDto? ResolvedBy, string? ResolutionNote, bool Unblocked);

/// <summary>One entry of <c>GET /api/v1/networks/{id}/events</c> (the audit trail).</summary>
public sealed record NetworkEventDto(long Sequence, long Version, string Type, DateTimeOffset Timestamp, ActorDto? Actor, JsonElement Data)
{
    public Guid? PeerId => Data.TryGetProperty("peerId", out var p) ? p.GetGuid() : null;
    public string? Text(string property) => Data.TryGetProperty(property, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
}

/// <summary>The admin API over loopback, with the bootstrap admin token. Every call asserts its status with the problem body in the message.</summary>
public sealed class AdminApi(Uri baseAddress, string token) : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http = new()
    {
        BaseAddress = baseAddress,
        Timeout = TimeSpan.FromSeconds(30),
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", token) },
    };

    public Task<NetworkDto> CreateNetworkAsync(string name, string cidr) =>
        SendAsync<NetworkDto>(HttpMethod.Post, "/api/v1/networks", new { name, cidr }, HttpStatusCode.Created);

    public Task<NetworkDto> UpdateNetworkAsync(Guid networkId, object patch) =>
        SendAsync<NetworkDto>(HttpMethod.Patch, $"/api/v1/networks/{networkId}", patch, HttpStatusCode.OK);

    public Task<PeerDto> AddPeerAsync(Guid networkId, object peer) =>
        SendAsync<PeerDto>(HttpMethod.Post, $"/api/v1/networks/{networkId}/peers", peer, HttpStatusCode.Created);

    public Task<PeerDto> GetPeerAsync(Guid networkId, Guid peerId) =>
        SendAsync<PeerDto>(HttpMethod.Get, $"/api/v1/networks/{networkId}/peers/{peerId}", null, HttpStatusCode.OK);

    public Task<PeerDto> UpdatePeerAsync(Guid networkId, Guid peerId, object patch) =>
        SendAsync<PeerDto>(HttpMethod.Patch, $"/api/v1/networks/{networkId}/peers/{peerId}", patch, HttpStatusCode.OK);

    /// <summary>An allow rule: <c>{name, sources: {groups, peers}, destinations: {groups, peers}, ports: ["tcp/22"]}</c>.</summary>
    public Task<PolicyDto> CreatePolicyAsync(Guid networkId, object policy) =>
        SendAsync<PolicyDto>(HttpMethod.Post, $"/api/v1/networks/{networkId}/policies", policy, HttpStatusCode.Created);

    public Task DeletePolicyAsync(Guid networkId, Guid policyId) =>
        SendRawAsync(HttpMethod.Delete, $"/api/v1/networks/{networkId}/policies/{policyId}", null, HttpStatusCode.NoContent);

    public Task<PeerDto> BlockAsync(Guid networkId, Guid peerId, string reason) =>
        SendAsync<PeerDto>(HttpMethod.Post, $"/api/v1/networks/{networkId}/peers/{peerId}/block", new { reason }, HttpStatusCode.OK);

    public Task<PeerDto> UnblockAsync(Guid networkId, Guid peerId, string reason) =>
        SendAsync<PeerDto>(HttpMethod.Post, $"/api/v1/networks/{networkId}/peers/{peerId}/unblock", new { reason }, HttpStatusCode.OK);

    public Task<List<NetworkEventDto>> NetworkEventsAsync(Guid networkId) =>
        SendAsync<List<NetworkEventDto>>(HttpMethod.Get, $"/api/v1/networks/{networkId}/events", null, HttpStatusCode.OK);

    public Task<List<IncidentDto>> IncidentsAsync(string? state, Guid peerId) =>
        SendAsync<List<IncidentDto>>(HttpMethod.Get, $"/api/v1/incidents?{(state is null ? "" : $"state={state}&")}peerId={peerId}", null, HttpStatusCode.OK);

    public Task<IncidentDto> IncidentAsync(Guid incidentId) =>
        SendAsync<IncidentDto>(HttpMethod.Get, $"/api/v1/incidents/{incidentId}", null, HttpStatusCode.OK);

    public Task<IncidentDto> ResolveIncidentAsync(Guid incidentId, string note, bool unblock) =>
        SendAsync<IncidentDto>(HttpMethod.Post, $"/api/v1/incidents/{incidentId}/resolve", new { note, unblock }, HttpStatusCode.OK);

    /// <summary>The peer's projected wg-quick config and its version (the network stream version at which it last changed).</summary>
    public async Task<(string Text, long Version)> GetConfigAsync(Guid networkId, Guid peerId)
    {
        using var response = await _http.GetAsync($"/api/v1/networks/{networkId}/peers/{peerId}/config");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET config of peer {peerId}: HTTP {(int)response.StatusCode}\n{body}");
        var version = long.Parse(response.Headers.GetValues("X-Wirety-Config-Version").Single(), System.Globalization.CultureInfo.InvariantCulture);
        return (body, version);
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, HttpStatusCode expected) =>
        JsonSerializer.Deserialize<T>(await SendRawAsync(method, path, body, expected), Json) ?? throw new InvalidOperationException($"{method} {path}: empty body");

    private async Task<string> SendRawAsync(HttpMethod method, string path, object? body, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body, options: Json);
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected,
            $"{method} {path}: expected HTTP {(int)expected}, got {(int)response.StatusCode}\n{text}");
        return text;
    }

    public void Dispose() => _http.Dispose();
}
