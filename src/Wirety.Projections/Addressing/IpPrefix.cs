using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Wirety.Projections.Addressing;

/// <summary>
/// An IPv4 or IPv6 prefix as WireGuard's AllowedIPs take it (a peer's <c>additionalAllowedIps</c>,
/// <c>0.0.0.0/0</c>, <c>::/0</c>). Canonical: host bits zero, and <see cref="ToString"/> yields one
/// spelling per prefix, so prefixes can be compared as values or as strings.
/// </summary>
public readonly record struct IpPrefix
{
    private IpPrefix(bool isIPv6, UInt128 value, int prefixLength)
    {
        IsIPv6 = isIPv6;
        Value = value;
        PrefixLength = prefixLength;
    }

    public static IpPrefix AnyIPv4 { get; } = new(false, 0, 0);
    public static IpPrefix AnyIPv6 { get; } = new(true, 0, 0);

    public bool IsIPv6 { get; }

    /// <summary>The network address as an integer: IPv4 in the low 32 bits, IPv6 in all 128.</summary>
    public UInt128 Value { get; }

    public int PrefixLength { get; }

    private int Bits => IsIPv6 ? 128 : 32;

    public static IpPrefix From(Ipv4Cidr cidr) => new(false, cidr.NetworkValue, cidr.PrefixLength);

    /// <summary>A single IPv4 host as a /32.</summary>
    public static IpPrefix Host(uint ipv4) => new(false, ipv4, 32);

    /// <summary>Same address family and one prefix contains the other.</summary>
    public bool Overlaps(IpPrefix other)
    {
        if (IsIPv6 != other.IsIPv6) return false;
        var mask = MaskOf(Math.Min(PrefixLength, other.PrefixLength), Bits);
        return (Value & mask) == (other.Value & mask);
    }

    public override string ToString()
    {
        var address = IsIPv6 ? ToIPv6(Value).ToString() : Ipv4Cidr.FormatAddress((uint)Value);
        return string.Create(CultureInfo.InvariantCulture, $"{address}/{PrefixLength}");
    }

    public static IpPrefix Parse(string text) =>
        TryParse(text, out var prefix, out var error) ? prefix : throw new FormatException(error);

    /// <summary>
    /// Parses <c>address/prefix</c> for either family. IPv4 uses the strict parser of
    /// <see cref="Ipv4Cidr"/>; IPv6 must not carry a zone (<c>%eth0</c>), which has no meaning in a
    /// route. A bare address is refused rather than read as a host route, so a typo cannot widen or
    /// narrow a route silently.
    /// </summary>
    public static bool TryParse(string? text, out IpPrefix prefix, out string error)
    {
        prefix = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "The allowed IP is empty; expected a prefix such as 192.168.10.0/24 or fd00:1::/64.";
            return false;
        }

        var span = text.AsSpan();
        var slash = span.IndexOf('/');
        if (slash < 0)
        {
            error = $"'{text}' is not a prefix: expected address/prefix, such as 192.168.10.0/24 (use /32 or /128 for one host).";
            return false;
        }

        var addressText = span[..slash];
        bool isIPv6;
        UInt128 value;
        if (Ipv4Cidr.TryParseAddress(addressText, out var ipv4))
        {
            (isIPv6, value) = (false, ipv4);
        }
        else if (addressText.Contains(':') && !addressText.Contains('%')
                 && IPAddress.TryParse(addressText, out var ipv6) && ipv6.AddressFamily == AddressFamily.InterNetworkV6)
        {
            (isIPv6, value) = (true, ToUInt128(ipv6));
        }
        else
        {
            error = $"'{text}' is malformed: '{addressText}' is not an IPv4 or IPv6 address.";
            return false;
        }

        var bits = isIPv6 ? 128 : 32;
        if (!Ipv4Cidr.TryParsePrefixLength(span[(slash + 1)..], bits, out var prefixLength))
        {
            error = $"'{text}' has an invalid prefix length: it must be a number from 0 to {bits}.";
            return false;
        }

        var mask = MaskOf(prefixLength, bits);
        if ((value & ~mask & MaskOf(bits, bits)) != 0)
        {
            error = $"{text} has host bits set; did you mean {new IpPrefix(isIPv6, value & mask, prefixLength)}?";
            return false;
        }

        prefix = new IpPrefix(isIPv6, value, prefixLength);
        error = "";
        return true;
    }

    /// <summary>
    /// Validates a peer's <c>additionalAllowedIps</c> as a command handler receives them: each must
    /// parse, and none may repeat (one prefix can belong to one WireGuard peer entry only).
    /// </summary>
    /// <param name="canonical">The prefixes in their canonical spelling, in the given order.</param>
    public static bool TryParseAll(
        IEnumerable<string>? texts, out ImmutableArray<string> canonical, out string error)
    {
        canonical = [];
        var result = ImmutableArray.CreateBuilder<string>();
        var seen = new HashSet<IpPrefix>();
        foreach (var text in texts ?? [])
        {
            if (!TryParse(text, out var prefix, out error)) return false;
            if (!seen.Add(prefix))
            {
                error = $"{prefix} is listed more than once.";
                return false;
            }
            result.Add(prefix.ToString());
        }
        canonical = result.ToImmutable();
        error = "";
        return true;
    }

    private static UInt128 MaskOf(int prefixLength, int bits) =>
        prefixLength == 0 ? UInt128.Zero : (UInt128.MaxValue << (128 - prefixLength)) >> (128 - bits);

    private static UInt128 ToUInt128(IPAddress ipv6)
    {
        Span<byte> bytes = stackalloc byte[16];
        ipv6.TryWriteBytes(bytes, out _);
        return BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }

    private static IPAddress ToIPv6(UInt128 value)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, value);
        return new IPAddress(bytes);
    }
}
