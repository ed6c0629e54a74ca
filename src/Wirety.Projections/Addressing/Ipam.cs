using Wirety.Events.Addressing;

namespace Wirety.Projections.Addressing;

/// <summary>How much of a network's host range is taken.</summary>
/// <param name="Total">Assignable addresses (network and broadcast excluded).</param>
public readonly record struct IpamCapacity(long Total, long Used, long Free);

/// <summary>
/// Address management over a network's CIDR. Pure functions of (CIDR, addresses in use): the used set
/// is the peers in the network's state, so deleting a peer releases its address with no extra
/// bookkeeping. Uniqueness under concurrency is not decided here: the command handler allocates
/// against one version of the network stream and appends with an optimistic version check, so two
/// concurrent creations cannot both commit the same address.
/// </summary>
public static class Ipam
{
    /// <summary>
    /// The lowest assignable address not in <paramref name="usedAddresses"/>, or null when the network
    /// is full. O(n log n) in the number of used addresses, independent of the CIDR's size, so a /8
    /// costs the same as a /24. Unparseable or out-of-range entries in the used list are ignored: they
    /// cannot occupy an assignable address.
    /// </summary>
    public static string? AllocateLowestFree(Ipv4Cidr cidr, IEnumerable<string> usedAddresses)
    {
        if (cidr.HostCount == 0) return null;

        var hosts = HostRange.Of(cidr);
        var candidate = hosts.First;
        foreach (var used in UsedHosts(hosts, usedAddresses))
        {
            // Sorted and distinct: the first used address above the candidate marks a gap.
            if (used > candidate) break;
            candidate = used + 1;
        }
        // Past the last host means every host was taken (candidate is then the broadcast address).
        return candidate <= hosts.Last ? IpAddresses.FromUInt32(candidate).ToString() : null;
    }

    /// <summary>
    /// The <paramref name="count"/> lowest assignable addresses not in <paramref name="usedAddresses"/>, ascending,
    /// in one walk over the sorted used set: O(n log n + count) for n used addresses, whatever the CIDR's size. Fewer
    /// than asked for when the network has fewer free addresses (the caller decides what a short answer means).
    /// Addresses already promised in the same batch (requested ones) belong in <paramref name="usedAddresses"/>.
    /// </summary>
    public static IReadOnlyList<string> AllocateLowestFree(Ipv4Cidr cidr, IEnumerable<string> usedAddresses, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var allocated = new List<string>(Math.Min(count, 4096));
        if (cidr.HostCount == 0 || count == 0) return allocated;

        var hosts = HostRange.Of(cidr);
        var used = UsedHosts(hosts, usedAddresses);
        var next = 0; // the first used address not below the candidate
        // 64-bit: a candidate may step past the last host (and past uint.MaxValue's neighbourhood) without wrapping.
        for (long candidate = hosts.First; candidate <= hosts.Last && allocated.Count < count; candidate++)
        {
            while (next < used.Count && used[next] < candidate) next++;
            if (next < used.Count && used[next] == candidate) continue;
            allocated.Add(IpAddresses.FromUInt32((uint)candidate).ToString());
        }
        return allocated;
    }

    /// <summary>Checks an admin-requested address.</summary>
    /// <returns>Null when the address can be assigned; otherwise why not.</returns>
    public static string? ValidateRequested(Ipv4Cidr cidr, string? requested, IEnumerable<string> usedAddresses)
    {
        if (!IpAddresses.TryParseIPv4(requested, out var address))
            return $"'{requested}' is not an IPv4 address (four decimal octets 0-255, e.g. 10.0.0.5).";
        if (!cidr.Contains(address))
            return $"{requested} is outside the network {cidr}.";
        if (cidr.HostCount == 0)
            return $"The network {cidr} has no assignable addresses.";
        if (address.Equals(cidr.Network))
            return $"{requested} is the network address of {cidr} and cannot be assigned to a peer.";
        if (address.Equals(cidr.Broadcast))
            return $"{requested} is the broadcast address of {cidr} and cannot be assigned to a peer.";
        foreach (var used in usedAddresses)
        {
            if (IpAddresses.TryParseIPv4(used, out var taken) && taken.Equals(address))
                return $"{requested} is already assigned to another peer.";
        }
        return null;
    }

    public static IpamCapacity Capacity(Ipv4Cidr cidr, IEnumerable<string> usedAddresses)
    {
        var total = cidr.HostCount;
        var used = total == 0 ? 0 : UsedHosts(HostRange.Of(cidr), usedAddresses).Count;
        return new IpamCapacity(total, used, total - used);
    }

    /// <summary>
    /// The assignable addresses as host-order integers: allocation is a walk over a sorted set of
    /// numbers, whatever the size of the range. Meaningless when the CIDR has no hosts.
    /// </summary>
    private readonly record struct HostRange(uint First, uint Last)
    {
        public static HostRange Of(Ipv4Cidr cidr) =>
            new(IpAddresses.ToUInt32(cidr.Network) + 1, IpAddresses.ToUInt32(cidr.Broadcast) - 1);

        public bool Contains(uint address) => address >= First && address <= Last;
    }

    /// <summary>Used addresses inside the host range, distinct and ascending.</summary>
    private static List<uint> UsedHosts(HostRange range, IEnumerable<string> usedAddresses)
    {
        var hosts = new List<uint>();
        foreach (var text in usedAddresses)
        {
            if (IpAddresses.TryParseIPv4(text, out var address) && range.Contains(IpAddresses.ToUInt32(address)))
                hosts.Add(IpAddresses.ToUInt32(address));
        }
        hosts.Sort();
        // Distinct in place: duplicates would otherwise be counted twice in Capacity.
        var distinct = 0;
        for (var i = 0; i < hosts.Count; i++)
        {
            if (i == 0 || hosts[i] != hosts[i - 1]) hosts[distinct++] = hosts[i];
        }
        hosts.RemoveRange(distinct, hosts.Count - distinct);
        return hosts;
    }
}
