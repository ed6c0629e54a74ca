using System.Net;
using System.Net.Sockets;

namespace Wirety.Events.Addressing;

/// <summary>
/// A network's IPv4 range (<c>NetworkCreated.Cidr</c>), e.g. <c>10.0.0.0/24</c>: an IPv4
/// <see cref="IpPrefix"/> plus what address management needs to know about its ends.
/// <c>default</c> is <c>0.0.0.0/0</c>, which is itself a valid prefix.
/// </summary>
public readonly record struct Ipv4Cidr
{
    private Ipv4Cidr(IpPrefix prefix) => Prefix = prefix;

    public IpPrefix Prefix { get; }

    public int PrefixLength => Prefix.PrefixLength;

    /// <summary>The first address of the range (all host bits clear).</summary>
    public IPAddress Network => Prefix.BaseAddress;

    /// <summary>The last address of the range (all host bits set).</summary>
    public IPAddress Broadcast => IpAddresses.FromUInt32(IpAddresses.ToUInt32(Network) + (uint)(Size - 1));

    /// <summary>Every address in the range, network and broadcast included (2^(32-p)).</summary>
    public long Size => 1L << (32 - PrefixLength);

    /// <summary>
    /// Addresses a peer can get: all but the network and broadcast address. /31 and /32 have none,
    /// because IPAM excludes both ends and for them the two ends are the whole prefix.
    /// </summary>
    public long HostCount => PrefixLength <= 30 ? Size - 2 : 0;

    /// <summary>The /<paramref name="prefixLength"/> range that contains <paramref name="address"/> (IPv4).</summary>
    public static Ipv4Cidr Containing(IPAddress address, int prefixLength)
    {
        if (address.AddressFamily != AddressFamily.InterNetwork) throw new ArgumentException($"{address} is not an IPv4 address.", nameof(address));
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, 32);
        return new Ipv4Cidr(IpPrefix.Containing(address, prefixLength));
    }

    /// <summary>False for IPv6 addresses (IPv4-mapped IPv6 addresses are treated as their IPv4 address).</summary>
    public bool Contains(IPAddress address) => Prefix.Contains(IpAddresses.Unmapped(address));

    /// <summary>Two ranges overlap exactly when one contains the other.</summary>
    public bool Overlaps(Ipv4Cidr other) => Prefix.Overlaps(other.Prefix);

    public override string ToString() => Prefix.ToString();

    public static Ipv4Cidr Parse(string text) =>
        TryParse(text, out var cidr, out var error) ? cidr : throw new FormatException(error);

    /// <summary>
    /// Parses <c>a.b.c.d/p</c> strictly: four decimal octets without leading zeros (so <c>010</c> is
    /// never read as octal, as inet_aton would), a prefix 0–32, and no host bits set.
    /// </summary>
    /// <param name="error">A message fit for an admin when parsing fails; empty on success.</param>
    public static bool TryParse(string? text, out Ipv4Cidr cidr, out string error)
    {
        var syntax = IpPrefix.Read(text, ipv4Only: true, out var prefix, out var address, out var length);
        cidr = new Ipv4Cidr(prefix);
        error = syntax switch
        {
            IpPrefix.Syntax.Valid => "",
            IpPrefix.Syntax.Empty => "The CIDR is empty; expected an IPv4 prefix such as 10.0.0.0/24.",
            IpPrefix.Syntax.NoLength => $"'{text}' is not a CIDR: expected address/prefix, such as 10.0.0.0/24.",
            IpPrefix.Syntax.BadAddress =>
                $"'{text}' is malformed: '{IpPrefix.AddressPart(text!)}' is not an IPv4 address (four decimal octets 0-255).",
            IpPrefix.Syntax.BadLength => $"'{text}' has an invalid prefix length: it must be a number from 0 to 32.",
            _ => $"{text} has host bits set; did you mean {Containing(address!, length)}?",
        };
        return syntax == IpPrefix.Syntax.Valid;
    }
}
