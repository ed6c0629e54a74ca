using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Wirety.Agent.Networking;

/// <summary>Parsing and comparing IP prefixes the way WireGuard and the kernel treat them.</summary>
public static class IpPrefixes
{
    /// <summary>
    /// Parses <c>a.b.c.d/n</c>, an IPv6 prefix, or a bare address (a host prefix). Host bits are
    /// cleared, as WireGuard does for AllowedIPs, so <c>10.0.0.5/24</c> equals <c>10.0.0.0/24</c>.
    /// </summary>
    public static bool TryParse(string? text, out IPNetwork prefix)
    {
        prefix = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? text : text[..slash];
        if (!TryParseAddress(addressText, out var address)) return false;
        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)) return false;
        var max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var length = max;
        if (slash >= 0 && !(int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out length)
                            && length >= 0 && length <= max))
            return false;
        prefix = new IPNetwork(Mask(address, length), length);
        return true;
    }

    /// <summary>
    /// A plain IPv4 dotted quad or IPv6 address. Stricter than <see cref="IPAddress.TryParse(string?, out IPAddress?)"/>,
    /// which also takes inet_aton forms such as "10.1" (= 10.0.0.1) and zone ids.
    /// </summary>
    public static bool TryParseAddress(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        if (!IPAddress.TryParse(text, out var parsed)) return false;
        if (parsed.AddressFamily == AddressFamily.InterNetwork)
        {
            var parts = text.Split('.');
            if (parts.Length != 4 || parts.Any(p => p.Length is 0 or > 3 || !p.All(char.IsAsciiDigit))) return false;
        }
        else if (parsed.AddressFamily != AddressFamily.InterNetworkV6 || parsed.ScopeId != 0)
        {
            return false;
        }
        address = parsed;
        return true;
    }

    public static IPNetwork Parse(string text) =>
        TryParse(text, out var prefix) ? prefix : throw new FormatException($"'{text}' is not an IP prefix.");

    public static IPNetwork HostPrefix(IPAddress address) =>
        new(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);

    public static bool IsDefaultRoute(IPNetwork prefix) => prefix.PrefixLength == 0;

    public static bool IsIPv4(IPNetwork prefix) => prefix.BaseAddress.AddressFamily == AddressFamily.InterNetwork;

    /// <summary>Whether <paramref name="outer"/> contains all of <paramref name="inner"/> (same family).</summary>
    public static bool Covers(IPNetwork outer, IPNetwork inner) =>
        outer.BaseAddress.AddressFamily == inner.BaseAddress.AddressFamily
        && outer.PrefixLength <= inner.PrefixLength
        && outer.Contains(inner.BaseAddress);

    /// <summary>Canonical text: <c>10.0.0.0/24</c>, <c>10.0.0.5/32</c>, <c>fd00::/64</c>.</summary>
    public static string Format(IPNetwork prefix) => prefix.ToString();

    /// <summary>Deterministic order: IPv4 before IPv6, then by address bytes, then by length.</summary>
    public static int Compare(IPNetwork a, IPNetwork b)
    {
        var family = a.BaseAddress.AddressFamily.CompareTo(b.BaseAddress.AddressFamily);
        if (family != 0) return family;
        var bytes = a.BaseAddress.GetAddressBytes().AsSpan().SequenceCompareTo(b.BaseAddress.GetAddressBytes());
        return bytes != 0 ? bytes : a.PrefixLength.CompareTo(b.PrefixLength);
    }

    public static readonly Comparer<IPNetwork> Order = Comparer<IPNetwork>.Create(Compare);

    private static IPAddress Mask(IPAddress address, int length)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(length - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }
        return new IPAddress(bytes);
    }
}

/// <summary>An address assigned to an interface, with its prefix length (host bits kept): <c>10.0.0.5/32</c>.</summary>
public readonly record struct InterfaceAddress(IPAddress Address, int PrefixLength)
{
    public static bool TryParse(string? text, out InterfaceAddress value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (!IpPrefixes.TryParseAddress(slash < 0 ? text : text[..slash], out var address)) return false;
        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)) return false;
        var max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var length = max;
        if (slash >= 0 && !(int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out length)
                            && length >= 0 && length <= max))
            return false;
        value = new InterfaceAddress(address, length);
        return true;
    }

    public bool IsIPv4 => Address.AddressFamily == AddressFamily.InterNetwork;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Address}/{PrefixLength}");
}

/// <summary>WireGuard endpoints (<c>host:port</c>, <c>[v6]:port</c>).</summary>
public static class Endpoints
{
    /// <summary>
    /// Whether two endpoint strings name the same socket address. Only literal IP endpoints can be
    /// compared; a host name never equals what <c>wg show</c> reports (it shows the resolved address).
    /// </summary>
    public static bool Same(string? a, string? b)
    {
        if (a is null || b is null) return a is null && b is null;
        if (string.Equals(a, b, StringComparison.OrdinalIgnoreCase)) return true;
        return IPEndPoint.TryParse(a, out var x) && IPEndPoint.TryParse(b, out var y) && x.Port == y.Port
               && Normalize(x.Address).Equals(Normalize(y.Address));
    }

    /// <summary>host:port with a port in 1..65535; host is an IP literal (v6 in brackets) or a DNS name.</summary>
    public static bool IsWellFormed(string? endpoint)
    {
        if (string.IsNullOrWhiteSpace(endpoint) || endpoint.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))) return false;
        var colon = endpoint.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(endpoint.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > 65535)
            return false;
        var host = endpoint[..colon];
        if (host.StartsWith('[')) return host.EndsWith(']') && IPAddress.TryParse(host[1..^1], out _);
        if (host.Contains(':', StringComparison.Ordinal)) return false; // bare IPv6 needs brackets
        return IPAddress.TryParse(host, out _) || Uri.CheckHostName(host) == UriHostNameType.Dns;
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
