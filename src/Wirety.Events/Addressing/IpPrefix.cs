using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;

namespace Wirety.Events.Addressing;

/// <summary>
/// An IPv4 or IPv6 prefix as WireGuard's AllowedIPs and the kernel's routes take it (a peer's
/// <c>additionalAllowedIps</c>, <c>0.0.0.0/0</c>, <c>::/0</c>): a <see cref="IPNetwork"/>, so host bits
/// are zero and <see cref="ToString"/> yields one spelling per prefix. <c>default</c> is <c>0.0.0.0/0</c>.
/// </summary>
public readonly record struct IpPrefix : IComparable<IpPrefix>
{
    private static readonly IPNetwork AnyIPv4Network = new(IPAddress.Any, 0);
    private readonly IPNetwork _network; // BaseAddress is null only in default(IpPrefix)

    private IpPrefix(IPNetwork network) => _network = network;

    public static IpPrefix AnyIPv4 { get; } = new(AnyIPv4Network);
    public static IpPrefix AnyIPv6 { get; } = new(new IPNetwork(IPAddress.IPv6Any, 0));

    public IPNetwork Network => _network.BaseAddress is null ? AnyIPv4Network : _network;
    public IPAddress BaseAddress => Network.BaseAddress;
    public int PrefixLength => Network.PrefixLength;
    public bool IsIPv4 => BaseAddress.AddressFamily == AddressFamily.InterNetwork;
    /// <summary><c>0.0.0.0/0</c> or <c>::/0</c>: a default route.</summary>
    public bool IsDefault => PrefixLength == 0;

    /// <summary>A single host: <c>/32</c> or <c>/128</c>.</summary>
    public static IpPrefix Host(IPAddress address) => new(new IPNetwork(address, BitsOf(address)));

    /// <summary>The prefix of length <paramref name="prefixLength"/> that contains <paramref name="address"/>.</summary>
    public static IpPrefix Containing(IPAddress address, int prefixLength) => new(new IPNetwork(Masked(address, prefixLength), prefixLength));

    public bool Contains(IPAddress address) => Network.Contains(address);

    /// <summary>Same address family and one prefix contains the other.</summary>
    public bool Overlaps(IpPrefix other) => Network.Contains(other.BaseAddress) || other.Network.Contains(BaseAddress);

    /// <summary>Whether this prefix contains all of <paramref name="inner"/> (same family).</summary>
    public bool Covers(IpPrefix inner) => PrefixLength <= inner.PrefixLength && Network.Contains(inner.BaseAddress);

    public bool Equals(IpPrefix other) => Network.Equals(other.Network);

    public override int GetHashCode() => Network.GetHashCode();

    /// <summary>Deterministic order: IPv4 before IPv6, then by address bytes, then by length.</summary>
    public int CompareTo(IpPrefix other)
    {
        var family = BaseAddress.AddressFamily.CompareTo(other.BaseAddress.AddressFamily);
        if (family != 0) return family;
        // Configs sort every entry's prefixes: compare the bytes without allocating arrays.
        Span<byte> mine = stackalloc byte[16], theirs = stackalloc byte[16];
        BaseAddress.TryWriteBytes(mine, out var length);
        other.BaseAddress.TryWriteBytes(theirs, out _);
        var bytes = mine[..length].SequenceCompareTo(theirs[..length]);
        return bytes != 0 ? bytes : PrefixLength.CompareTo(other.PrefixLength);
    }

    public override string ToString() => Network.ToString();

    public static IpPrefix Parse(string text) =>
        TryParse(text, out var prefix, out var error) ? prefix : throw new FormatException(error);

    /// <summary>
    /// Parses <c>address/prefix</c> of either family, strictly, as an admin types a route (see
    /// <see cref="IpAddresses.TryParse"/>). A bare address is refused rather than read as a host route,
    /// and set host bits are refused rather than cleared, so a typo cannot widen or narrow a route silently.
    /// </summary>
    /// <param name="error">A message fit for an admin when parsing fails; empty on success.</param>
    public static bool TryParse(string? text, out IpPrefix prefix, out string error)
    {
        var syntax = Read(text, ipv4Only: false, out prefix, out var address, out var length);
        error = syntax switch
        {
            Syntax.Valid => "",
            Syntax.Empty => "The allowed IP is empty; expected a prefix such as 192.168.10.0/24 or fd00:1::/64.",
            Syntax.NoLength => $"'{text}' is not a prefix: expected address/prefix, such as 192.168.10.0/24 (use /32 or /128 for one host).",
            Syntax.BadAddress => $"'{text}' is malformed: '{AddressPart(text!)}' is not an IPv4 or IPv6 address.",
            Syntax.BadLength => $"'{text}' has an invalid prefix length: it must be a number from 0 to {BitsOf(address!)}.",
            _ => $"{text} has host bits set; did you mean {Containing(address!, length)}?",
        };
        return syntax == Syntax.Valid;
    }

    /// <summary>
    /// Reads a prefix the way WireGuard and the kernel do (<c>wg</c> and <c>ip</c> output, a config's
    /// AllowedIPs): surrounding whitespace ignored, a bare address is a host prefix, and host bits are
    /// cleared, so <c>10.0.0.5/24</c> reads as <c>10.0.0.0/24</c>.
    /// </summary>
    public static bool TryNormalize(string? text, out IpPrefix prefix)
    {
        prefix = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var span = text.AsSpan().Trim();
        var slash = span.IndexOf('/');
        if (!IpAddresses.TryParse(slash < 0 ? span : span[..slash], out var address)) return false;
        var length = BitsOf(address);
        if (slash >= 0 && !TryParseLength(span[(slash + 1)..], length, out length)) return false;
        prefix = Containing(address, length);
        return true;
    }

    /// <summary>
    /// Validates a peer's <c>additionalAllowedIps</c> as a command handler receives them: each must
    /// parse, and none may repeat (one prefix can belong to one WireGuard peer entry only).
    /// </summary>
    /// <param name="canonical">The prefixes in their canonical spelling, in the given order.</param>
    public static bool TryParseAll(IEnumerable<string>? texts, out ImmutableArray<string> canonical, out string error)
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

    /// <summary>Why a strict parse failed; each caller words it for its own field.</summary>
    internal enum Syntax { Valid, Empty, NoLength, BadAddress, BadLength, HostBits }

    /// <summary>The strict parse shared by <see cref="TryParse"/> and <see cref="Ipv4Cidr.TryParse"/>.</summary>
    /// <param name="address">The address part when it parsed (also on BadLength and HostBits).</param>
    internal static Syntax Read(string? text, bool ipv4Only, out IpPrefix prefix, out IPAddress? address, out int length)
    {
        (prefix, address, length) = (default, null, 0);
        if (string.IsNullOrWhiteSpace(text)) return Syntax.Empty;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0) return Syntax.NoLength;
        var addressText = text.AsSpan(0, slash);
        if (!(ipv4Only ? IpAddresses.TryParseIPv4(addressText, out address) : IpAddresses.TryParse(addressText, out address)))
            return Syntax.BadAddress;
        if (!TryParseLength(text.AsSpan(slash + 1), BitsOf(address), out length)) return Syntax.BadLength;
        var network = Containing(address, length);
        if (!network.BaseAddress.Equals(address)) return Syntax.HostBits;
        prefix = network;
        return Syntax.Valid;
    }

    internal static string AddressPart(string text) => text[..text.IndexOf('/', StringComparison.Ordinal)];

    internal static int BitsOf(IPAddress address) => address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;

    /// <summary>Decimal 0..<paramref name="max"/>: no sign, no leading zeros, no whitespace.</summary>
    internal static bool TryParseLength(ReadOnlySpan<char> text, int max, out int length)
    {
        length = 0;
        if (text.Length is 0 or > 3 || (text.Length > 1 && text[0] == '0') || text.ContainsAnyExceptInRange('0', '9')) return false;
        length = int.Parse(text, provider: System.Globalization.CultureInfo.InvariantCulture);
        return length <= max;
    }

    /// <summary>The address with the bits after <paramref name="prefixLength"/> cleared (IPNetwork refuses them).</summary>
    private static IPAddress Masked(IPAddress address, int prefixLength)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
            bytes[i] &= (byte)(0xFF << (8 - Math.Clamp(prefixLength - (i * 8), 0, 8)));
        return new IPAddress(bytes);
    }
}
