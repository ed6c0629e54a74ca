using System.Net;
using Wirety.Events.Addressing;
using Wirety.Events.Peers;
using Wirety.Server.Forwarding;

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

    /// <summary>The endpoint of <see cref="SourceAddress"/> and a port.</summary>
    public static string EndpointOf(string address, int port) =>
        IPAddress.TryParse(address, out var ip) ? WireGuardEndpoint.Of(ip, port) : $"{address}:{port}";
}
