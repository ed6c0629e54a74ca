using System.Net;
using Marten;
using Wirety.Events.Addressing;
using Wirety.Events.Peers;
using Wirety.Projections.Networks;
using Wirety.Server.Forwarding;
using Wirety.Server.Peers;

namespace Wirety.Server.Agents;

/// <summary>Field rules for agent requests. Each returns null when the value is fine.</summary>
public static class AgentRules
{
    /// <summary>A WireGuard public key: base64 of exactly 32 bytes.</summary>
    public static string? PublicKey(string? key)
    {
        if (string.IsNullOrWhiteSpace(key)) return "publicKey is required (base64 of a 32-byte X25519 key, as `wg pubkey` prints).";
        return WireGuardKey.IsWellFormed(key)
            ? null
            : "publicKey must be base64 of exactly 32 bytes (44 characters, as `wg pubkey` prints).";
    }

    /// <summary>
    /// A key a peer is to hold (enrollment, rotation): <see cref="PublicKey"/>, and not the all-zero key (a low-order
    /// point: every handshake with it fails, and it is what a broken key generator or an uninitialised buffer gives).
    /// </summary>
    public static string? PeerPublicKey(string? key) =>
        PublicKey(key) ?? (Convert.FromBase64String(key!).All(b => b == 0)
            ? "publicKey is the all-zero key, which WireGuard cannot use; generate a real key pair (`wg genkey | wg pubkey`)."
            : null);

    public static string? Hostname(string? hostname) =>
        hostname is { Length: > 0 and <= 253 } && hostname.All(c => c is > ' ' and < (char)127)
            ? null
            : "hostname is required: 1–253 printable ASCII characters without spaces.";

    /// <summary>
    /// The client address as other peers would see it, IPv4-mapped addresses unwrapped; behind a trusted
    /// proxy the address it forwarded for (see <see cref="TrustedProxies"/>).
    /// </summary>
    public static string SourceAddress(HttpContext http) =>
        (http.RequestServices.GetService<TrustedProxies>() ?? TrustedProxies.None)
            .ClientAddress(http.Connection.RemoteIpAddress, http.Request.Headers[TrustedProxies.Header]) is { } address
            ? IpAddresses.Unmapped(address).ToString()
            : "unknown";

    /// <summary>
    /// <see cref="SourceAddress"/> for agent traffic (enrollment, heartbeats): also warns once when it looks like
    /// an untrusted load balancer in front of the server (<see cref="PrivateSourceWarning"/>).
    /// </summary>
    public static string AgentSourceAddress(HttpContext http)
    {
        http.RequestServices.GetService<PrivateSourceWarning>()?.Observe(http.Connection.RemoteIpAddress, http.Request.Headers.ContainsKey(TrustedProxies.Header));
        return SourceAddress(http);
    }

    /// <summary>
    /// An endpoint an agent reports, or an admin declares for a static peer: <c>host:port</c> with an IP address
    /// literal as host, unless an admin allowed DNS names for the network (<c>allowDnsEndpoints</c>). A DNS name
    /// would let the endpoint move to whatever the name resolves to later, without the server ever seeing a change.
    /// </summary>
    public static string? Endpoint(string? endpoint, bool allowDnsNames) =>
        PeerRules.Endpoint(endpoint) ?? (!allowDnsNames && IsDnsName(endpoint)
            ? $"endpoint '{endpoint}' must be an IP address and port (e.g. 192.0.2.1:51820 or [2001:db8::1]:51820), not a DNS name; "
              + "an admin can allow DNS names for this network (PATCH the network with allowDnsEndpoints: true)."
            : null);

    /// <summary>Whether a well-formed endpoint names its host by DNS rather than by address.</summary>
    public static bool IsDnsName(string? endpoint) =>
        WireGuardEndpoint.TryParse(endpoint, out var parsed) && !IPAddress.TryParse(parsed.Host, out _);

    /// <summary>
    /// Whether the agent's network allows DNS endpoints; read only when one of <paramref name="endpoints"/> is a
    /// DNS name, so heartbeats with address literals (all of them by default) cost no extra read.
    /// </summary>
    public static async Task<bool> AllowsDnsEndpointsAsync(HttpContext http, Guid networkId, IReadOnlyList<string>? endpoints, CancellationToken ct)
    {
        if (endpoints is null || !endpoints.Any(IsDnsName)) return false;
        await using var session = http.RequestServices.GetRequiredService<IDocumentStore>().QuerySession();
        return (await session.LoadAsync<Network>(networkId, ct))?.AllowDnsEndpoints == true;
    }

    /// <summary>The endpoint of <see cref="SourceAddress"/> and a port.</summary>
    public static string EndpointOf(string address, int port) =>
        IPAddress.TryParse(address, out var ip) ? WireGuardEndpoint.Of(ip, port) : $"{address}:{port}";
}
