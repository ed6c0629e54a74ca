using System.Net;
using Microsoft.Extensions.Primitives;

namespace Wirety.Server.Forwarding;

/// <summary>
/// The proxies (load balancers) whose <c>X-Forwarded-For</c> the server believes, from
/// <c>WIRETY_TRUSTED_PROXIES</c>: comma-separated IP addresses and CIDR prefixes, IPv4 or IPv6. Default
/// none, so the header is ignored: anyone can send it, and believing it would let an agent choose the
/// source address that incident detection judges it by.
/// </summary>
public sealed class TrustedProxies
{
    public const string Setting = "WIRETY_TRUSTED_PROXIES";
    public const string Header = "X-Forwarded-For";
    private readonly IReadOnlyList<IPNetwork> _networks;

    public TrustedProxies(IReadOnlyList<IPNetwork> networks) => _networks = networks;

    public static TrustedProxies None { get; } = new([]);

    public bool Any => _networks.Count > 0;

    /// <exception cref="InvalidOperationException">An entry is neither an address nor a prefix (the server refuses to start).</exception>
    public static TrustedProxies From(IConfiguration config)
    {
        if (config[Setting] is not { Length: > 0 } text) return None;
        var networks = new List<IPNetwork>();
        foreach (var entry in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (IPNetwork.TryParse(entry, out var network)) networks.Add(network);
            else if (IPAddress.TryParse(entry, out var address)) networks.Add(new IPNetwork(Unmapped(address), Unmapped(address).GetAddressBytes().Length * 8));
            else throw new InvalidOperationException(
                $"{Setting}: '{entry}' is not an IP address or CIDR prefix (e.g. 10.0.0.5, 10.0.0.0/24, fd00::/64); refusing to start.");
        }
        return new TrustedProxies(networks);
    }

    public bool IsTrusted(IPAddress address) => _networks.Any(n => n.Contains(Unmapped(address)));

    /// <summary>
    /// The client's address: the connection's peer, unless that is a trusted proxy — then the right-most
    /// <c>X-Forwarded-For</c> entry that is not itself a trusted proxy (each proxy appends the address it
    /// was reached from, so entries left of the first untrusted one are the client's own claims). A header
    /// that cannot be read as addresses is ignored, and the proxy's address stands.
    /// </summary>
    public IPAddress? ClientAddress(IPAddress? remote, StringValues forwardedFor)
    {
        if (remote is null || _networks.Count == 0 || StringValues.IsNullOrEmpty(forwardedFor) || !IsTrusted(remote)) return remote;
        var hops = forwardedFor.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries)).ToList();
        var client = remote;
        for (var i = hops.Count - 1; i >= 0; i--)
        {
            if (!IPAddress.TryParse(hops[i], out var hop)) return remote;
            client = Unmapped(hop);
            if (!IsTrusted(client)) return client;
        }
        return client; // every hop is a trusted proxy: the left-most one is as close to the client as it gets
    }

    private static IPAddress Unmapped(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
