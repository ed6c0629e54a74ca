using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Wirety.Events.Addressing;

/// <summary>
/// An address assigned to an interface with the prefix length of its subnet, host bits kept
/// (<c>10.0.0.5/32</c>; <c>AgentInterface.Address</c> lists them comma-separated). Unlike an
/// <see cref="IpPrefix"/> it names one address, not a range.
/// </summary>
public readonly record struct InterfaceAddress(IPAddress Address, int PrefixLength)
{
    public bool IsIPv4 => Address.AddressFamily == AddressFamily.InterNetwork;

    /// <summary><c>address/length</c>, or a bare address (a host: /32 or /128); surrounding whitespace ignored.</summary>
    public static bool TryParse(string? text, out InterfaceAddress value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var span = text.AsSpan().Trim();
        var slash = span.IndexOf('/');
        if (!IpAddresses.TryParse(slash < 0 ? span : span[..slash], out var address)) return false;
        var length = IpPrefix.BitsOf(address);
        if (slash >= 0 && !IpPrefix.TryParseLength(span[(slash + 1)..], length, out length)) return false;
        value = new InterfaceAddress(address, length);
        return true;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Address}/{PrefixLength}");
}
