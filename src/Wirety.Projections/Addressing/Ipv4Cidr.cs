using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Wirety.Projections.Addressing;

/// <summary>
/// An IPv4 prefix in canonical form (host bits zero), e.g. <c>10.0.0.0/24</c>. Addresses are kept as
/// host-order <see cref="uint"/> so IPAM and overlap checks are plain integer math.
/// <c>default</c> is <c>0.0.0.0/0</c>, which is itself a valid prefix.
/// </summary>
public readonly record struct Ipv4Cidr
{
    private Ipv4Cidr(uint network, int prefixLength)
    {
        NetworkValue = network;
        PrefixLength = prefixLength;
    }

    /// <summary>The network address as a host-order integer (10.0.0.0 → 0x0A000000).</summary>
    public uint NetworkValue { get; }

    public int PrefixLength { get; }

    public uint Mask => MaskOf(PrefixLength);

    /// <summary>The last address of the prefix (all host bits set).</summary>
    public uint BroadcastValue => NetworkValue | ~Mask;

    public IPAddress Network => ToIPAddress(NetworkValue);

    public IPAddress Broadcast => ToIPAddress(BroadcastValue);

    /// <summary>Every address in the prefix, network and broadcast included (2^(32-p)).</summary>
    public long Size => 1L << (32 - PrefixLength);

    /// <summary>
    /// Addresses a peer can get: all but the network and broadcast address. /31 and /32 have none,
    /// because IPAM excludes both ends and for them the two ends are the whole prefix.
    /// </summary>
    public long HostCount => PrefixLength <= 30 ? Size - 2 : 0;

    /// <summary>First assignable host (network + 1); meaningless when <see cref="HostCount"/> is 0.</summary>
    public uint FirstHostValue => NetworkValue + 1;

    /// <summary>Last assignable host (broadcast - 1); meaningless when <see cref="HostCount"/> is 0.</summary>
    public uint LastHostValue => BroadcastValue - 1;

    /// <summary>Builds a prefix from parts; fails (rather than silently masking) when host bits are set.</summary>
    public static bool TryCreate(uint address, int prefixLength, out Ipv4Cidr cidr)
    {
        cidr = default;
        if (prefixLength is < 0 or > 32 || (address & ~MaskOf(prefixLength)) != 0) return false;
        cidr = new Ipv4Cidr(address, prefixLength);
        return true;
    }

    /// <summary>The prefix of length <paramref name="prefixLength"/> that contains <paramref name="address"/>.</summary>
    public static Ipv4Cidr Containing(uint address, int prefixLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, 32);
        return new Ipv4Cidr(address & MaskOf(prefixLength), prefixLength);
    }

    public bool Contains(uint address) => (address & Mask) == NetworkValue;

    /// <summary>False for IPv6 addresses (IPv4-mapped IPv6 addresses are treated as their IPv4 address).</summary>
    public bool Contains(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        return address.AddressFamily == AddressFamily.InterNetwork && Contains(ToUInt32(address));
    }

    /// <summary>Two prefixes overlap exactly when the shorter one contains the longer one's network.</summary>
    public bool Overlaps(Ipv4Cidr other)
    {
        var mask = MaskOf(Math.Min(PrefixLength, other.PrefixLength));
        return (NetworkValue & mask) == (other.NetworkValue & mask);
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{FormatAddress(NetworkValue)}/{PrefixLength}");

    public static Ipv4Cidr Parse(string text) =>
        TryParse(text, out var cidr, out var error) ? cidr : throw new FormatException(error);

    /// <summary>
    /// Parses <c>a.b.c.d/p</c> strictly: four decimal octets without leading zeros (so <c>010</c> is
    /// never read as octal, as inet_aton would), a prefix 0–32, and no host bits set.
    /// </summary>
    /// <param name="error">A message fit for an admin when parsing fails; empty on success.</param>
    public static bool TryParse(string? text, out Ipv4Cidr cidr, out string error)
    {
        cidr = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "The CIDR is empty; expected an IPv4 prefix such as 10.0.0.0/24.";
            return false;
        }

        var span = text.AsSpan();
        var slash = span.IndexOf('/');
        if (slash < 0)
        {
            error = $"'{text}' is not a CIDR: expected address/prefix, such as 10.0.0.0/24.";
            return false;
        }

        if (!TryParseAddress(span[..slash], out var address))
        {
            error = $"'{text}' is malformed: '{span[..slash]}' is not an IPv4 address (four decimal octets 0-255).";
            return false;
        }

        if (!TryParsePrefixLength(span[(slash + 1)..], 32, out var prefixLength))
        {
            error = $"'{text}' has an invalid prefix length: it must be a number from 0 to 32.";
            return false;
        }

        if (!TryCreate(address, prefixLength, out cidr))
        {
            error = $"{text} has host bits set; did you mean {Containing(address, prefixLength)}?";
            return false;
        }

        error = "";
        return true;
    }

    /// <summary>Strict dotted-quad parse (see <see cref="TryParse"/>); no allocation.</summary>
    public static bool TryParseAddress(ReadOnlySpan<char> text, out uint address)
    {
        address = 0;
        var octets = 0;
        while (true)
        {
            var dot = text.IndexOf('.');
            var part = dot < 0 ? text : text[..dot];
            if (!TryParseOctet(part, out var octet)) return false;
            address = (address << 8) | octet;
            octets++;
            if (dot < 0) break;
            if (octets == 4) return false;
            text = text[(dot + 1)..];
        }
        return octets == 4;
    }

    /// <summary>Dotted-quad text of a host-order address.</summary>
    public static string FormatAddress(uint address) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{address >> 24}.{(address >> 16) & 0xFF}.{(address >> 8) & 0xFF}.{address & 0xFF}");

    public static IPAddress ToIPAddress(uint address) =>
        new([(byte)(address >> 24), (byte)(address >> 16), (byte)(address >> 8), (byte)address]);

    private static uint ToUInt32(IPAddress ipv4)
    {
        Span<byte> bytes = stackalloc byte[4];
        ipv4.TryWriteBytes(bytes, out _);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }

    // A shift by 32 is a no-op in C#, so /0 needs its own case.
    private static uint MaskOf(int prefixLength) => prefixLength == 0 ? 0u : uint.MaxValue << (32 - prefixLength);

    private static bool TryParseOctet(ReadOnlySpan<char> text, out uint octet)
    {
        octet = 0;
        if (text.Length is 0 or > 3 || (text.Length > 1 && text[0] == '0')) return false;
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c)) return false;
            octet = octet * 10 + (uint)(c - '0');
        }
        return octet <= 255;
    }

    /// <summary>Decimal 0..<paramref name="max"/>, no sign, no leading zeros, no whitespace.</summary>
    internal static bool TryParsePrefixLength(ReadOnlySpan<char> text, int max, out int prefixLength)
    {
        prefixLength = 0;
        if (text.Length is 0 or > 3 || (text.Length > 1 && text[0] == '0')) return false;
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c)) return false;
            prefixLength = prefixLength * 10 + (c - '0');
        }
        return prefixLength <= max;
    }
}
