using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;

namespace Wirety.Events.Addressing;

/// <summary>
/// IP address text as Wirety accepts it everywhere (API input, configs, agent): the framework's
/// <see cref="IPAddress"/> behind a stricter front door.
/// </summary>
public static class IpAddresses
{
    /// <summary>
    /// A plain IPv4 dotted quad (see <see cref="TryParseIPv4"/>) or an IPv6 address without a zone
    /// (<c>%eth0</c> has no meaning off the machine that wrote it).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, [NotNullWhen(true)] out IPAddress? address)
    {
        if (!text.Contains(':')) return TryParseIPv4(text, out address);
        address = !text.Contains('%') && IPAddress.TryParse(text, out var parsed) && parsed.AddressFamily == AddressFamily.InterNetworkV6
            ? parsed
            : null;
        return address is not null;
    }

    /// <summary>
    /// Four decimal octets 0–255 without leading zeros. <see cref="IPAddress.TryParse(string?, out IPAddress?)"/>
    /// alone also takes inet_aton forms: <c>10.1</c> (= 10.0.0.1), and <c>010</c> read as octal.
    /// </summary>
    public static bool TryParseIPv4(ReadOnlySpan<char> text, [NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        var octets = 0;
        foreach (var range in text.Split('.'))
        {
            var octet = text[range];
            if (++octets > 4 || octet.Length is 0 or > 3 || (octet.Length > 1 && octet[0] == '0')
                || octet.ContainsAnyExceptInRange('0', '9'))
                return false;
        }
        // The shape is a plain dotted quad now, so the framework reads it as one (and checks 0–255).
        return octets == 4 && IPAddress.TryParse(text, out address);
    }

    /// <summary>An IPv4-mapped IPv6 address (<c>::ffff:192.0.2.1</c>, as dual-stack sockets report) as its IPv4 address.</summary>
    public static IPAddress Unmapped(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    /// <summary>An IPv4 address as a host-order integer (10.0.0.1 → 0x0A000001), for arithmetic over address ranges.</summary>
    public static uint ToUInt32(IPAddress ipv4)
    {
        if (ipv4.AddressFamily != AddressFamily.InterNetwork) throw new ArgumentException($"{ipv4} is not an IPv4 address.", nameof(ipv4));
        Span<byte> bytes = stackalloc byte[4];
        ipv4.TryWriteBytes(bytes, out _);
        return BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }

    public static IPAddress FromUInt32(uint ipv4)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, ipv4);
        return new IPAddress(bytes);
    }
}
