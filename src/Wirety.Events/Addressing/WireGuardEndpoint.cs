using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Wirety.Events.Addressing;

/// <summary>Why an endpoint text is not a <see cref="WireGuardEndpoint"/>.</summary>
public enum EndpointSyntax { Valid, BadPort, BadHost }

/// <summary>
/// Where a WireGuard peer is dialled: <c>host:port</c>, the host an IPv4 address, a bracketed IPv6
/// address (<c>[2001:db8::1]:51820</c>) or a DNS name. On the wire it stays the text it was given.
/// </summary>
/// <param name="Host">Without brackets.</param>
public readonly partial record struct WireGuardEndpoint(string Host, int Port)
{
    [GeneratedRegex(@"^(?=.{1,253}\z)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\z")]
    private static partial Regex DnsName();

    public static bool IsWellFormed(string? text) => TryParse(text, out _);

    public static bool TryParse(string? text, out WireGuardEndpoint endpoint) => Read(text, out endpoint) == EndpointSyntax.Valid;

    /// <summary>Parses strictly: a port 1–65535 in plain digits, and a host as described on the type.</summary>
    public static EndpointSyntax Read(string? text, out WireGuardEndpoint endpoint)
    {
        endpoint = default;
        var colon = text?.LastIndexOf(':') ?? -1;
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > 65535)
            return EndpointSyntax.BadPort;
        var host = text![..colon];
        var valid = host.StartsWith('[') && host.EndsWith(']')
            ? host.Contains(':') && IpAddresses.TryParse(host.AsSpan(1, host.Length - 2), out _)
            : !host.Contains(':') && (IpAddresses.TryParseIPv4(host, out _) || DnsName().IsMatch(host));
        if (!valid) return EndpointSyntax.BadHost;
        endpoint = new WireGuardEndpoint(host.StartsWith('[') ? host[1..^1] : host, port);
        return EndpointSyntax.Valid;
    }

    /// <summary>The endpoint of a socket address, as an observer writes it: <c>192.0.2.1:51820</c>, <c>[2001:db8::1]:51820</c>.</summary>
    public static string Of(IPAddress address, int port) => new IPEndPoint(address, port).ToString();

    /// <summary>
    /// The host part of an endpoint text without brackets, or the whole text when it has no port. For
    /// texts recorded as they came (an observed socket address may carry an IPv6 zone, which
    /// <see cref="TryParse"/> refuses).
    /// </summary>
    public static string? HostOf(string? endpoint)
    {
        if (endpoint is null) return null;
        var colon = endpoint.LastIndexOf(':');
        var host = colon > 0 ? endpoint[..colon] : endpoint;
        return host.Trim('[', ']');
    }

    /// <summary>
    /// Whether two endpoint texts name the same socket address. Only literal IP endpoints can be
    /// compared; a host name never equals what <c>wg show</c> reports (it shows the resolved address).
    /// </summary>
    public static bool Same(string? a, string? b)
    {
        if (a is null || b is null) return a is null && b is null;
        if (string.Equals(a, b, StringComparison.OrdinalIgnoreCase)) return true;
        return IPEndPoint.TryParse(a, out var x) && IPEndPoint.TryParse(b, out var y) && x.Port == y.Port
               && IpAddresses.Unmapped(x.Address).Equals(IpAddresses.Unmapped(y.Address));
    }

    public override string ToString()
    {
        var port = Port.ToString(CultureInfo.InvariantCulture);
        return Host.Contains(':') ? $"[{Host}]:{port}" : $"{Host}:{port}";
    }
}
