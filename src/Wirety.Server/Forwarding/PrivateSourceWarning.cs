using System.Net;

namespace Wirety.Server.Forwarding;

/// <summary>
/// Behind a load balancer without <c>WIRETY_TRUSTED_PROXIES</c>, every agent's requests come from the
/// balancer's address: incident detection (session conflict, shared config, which compare source
/// addresses) then sees one address for everybody, the endpoints observed from heartbeats point at the
/// balancer, and per-address rate limits lump all enrollments together. The telltale is agent traffic
/// from a private address (RFC 1918, CGNAT 100.64.0.0/10, IPv6 ULA fc00::/7; loopback is a developer's
/// machine and is left alone) while no proxy is trusted: the first such request of a process logs one
/// warning saying so and how to fix it. Agents that really sit on a private network with no proxy in
/// between may ignore it.
/// </summary>
public sealed class PrivateSourceWarning(TrustedProxies proxies, ILogger<PrivateSourceWarning> log)
{
    private static readonly IPNetwork[] PrivateRanges =
    [
        IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("fc00::/7"),
    ];

    private int _warned;

    /// <summary>True once the warning has been logged (it is logged at most once per process).</summary>
    public bool Warned => Volatile.Read(ref _warned) != 0;

    /// <summary>RFC 1918, CGNAT or ULA (IPv4-mapped addresses unwrapped); not loopback, not public.</summary>
    public static bool IsPrivate(IPAddress address)
    {
        var a = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return PrivateRanges.Any(n => n.Contains(a));
    }

    /// <summary>An agent request arrived over a connection from <paramref name="remote"/>.</summary>
    public void Observe(IPAddress? remote, bool sentForwardedFor)
    {
        if (proxies.Any || remote is null || Warned || !IsPrivate(remote)) return;
        if (Interlocked.Exchange(ref _warned, 1) != 0) return;
        var a = remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote;
        log.LogWarning(
            "Agent traffic arrives from the private address {Address}{Header} and {Setting} is not set. If this server is behind a load balancer " +
            "or reverse proxy, every agent looks like that one address: session-conflict and shared-config detection will misfire " +
            "(one agent seen in two places, or all agents as one), endpoints observed from heartbeats point at the balancer, and " +
            "per-address rate limits lump agents together. Set {Setting} to the balancer's addresses or CIDRs (e.g. {Setting}=10.0.0.0/24) " +
            "so its X-Forwarded-For is believed. If agents really reach this server directly from a private network, ignore this. " +
            "(Logged once per process.)",
            a, sentForwardedFor ? " with an X-Forwarded-For header" : "", TrustedProxies.Setting, TrustedProxies.Setting, TrustedProxies.Setting);
    }
}
