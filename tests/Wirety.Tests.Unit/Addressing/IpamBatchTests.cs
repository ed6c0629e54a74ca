using Wirety.Events.Addressing;
using Wirety.Projections.Addressing;

namespace Wirety.Tests.Unit.Addressing;

/// <summary><see cref="Ipam.AllocateLowestFree(Ipv4Cidr, IEnumerable{string}, int)"/>: many addresses in one walk (bulk peer creation).</summary>
public class IpamBatchTests
{
    private static readonly Ipv4Cidr Net24 = Ipv4Cidr.Parse("10.0.0.0/24");

    [Fact]
    public void an_empty_network_hands_out_the_first_hosts_in_order() =>
        Assert.Equal(["10.0.0.1", "10.0.0.2", "10.0.0.3"], Ipam.AllocateLowestFree(Net24, [], 3));

    [Fact]
    public void gaps_are_filled_first_and_used_addresses_skipped_in_any_input_order() =>
        Assert.Equal(["10.0.0.2", "10.0.0.5", "10.0.0.6", "10.0.0.8"],
            Ipam.AllocateLowestFree(Net24, ["10.0.0.7", "10.0.0.1", "10.0.0.4", "10.0.0.3", "10.0.0.1"], 4));

    [Fact]
    public void requested_addresses_of_the_same_batch_are_not_handed_out_again()
    {
        // Existing peers at .1 and .2; the batch asks for .3 and .6 explicitly and needs three more.
        var used = new[] { "10.0.0.1", "10.0.0.2" }.Concat(["10.0.0.6", "10.0.0.3"]);
        Assert.Equal(["10.0.0.4", "10.0.0.5", "10.0.0.7"], Ipam.AllocateLowestFree(Net24, used, 3));
    }

    [Fact]
    public void a_full_slash_30_answers_nothing_and_a_half_full_one_only_what_is_free()
    {
        var cidr = Ipv4Cidr.Parse("192.168.7.4/30");
        Assert.Empty(Ipam.AllocateLowestFree(cidr, ["192.168.7.5", "192.168.7.6"], 1));
        Assert.Equal(["192.168.7.6"], Ipam.AllocateLowestFree(cidr, ["192.168.7.5"], 5));
        Assert.Equal(["192.168.7.5", "192.168.7.6"], Ipam.AllocateLowestFree(cidr, [], 2));
    }

    [Fact]
    public void a_slash_32_and_a_slash_31_have_no_hosts() // as the single allocation: network and broadcast excluded
    {
        Assert.Empty(Ipam.AllocateLowestFree(Ipv4Cidr.Parse("10.0.0.7/32"), [], 1));
        Assert.Empty(Ipam.AllocateLowestFree(Ipv4Cidr.Parse("10.0.0.6/31"), [], 1));
    }

    [Fact]
    public void outside_unparseable_and_boundary_entries_in_the_used_list_are_ignored() =>
        Assert.Equal(["10.0.0.1", "10.0.0.2"], Ipam.AllocateLowestFree(Net24, ["10.0.1.1", "garbage", "10.0.0.0", "10.0.0.255"], 2));

    [Fact]
    public void a_slash_8_with_many_peers_allocates_a_thousand_past_them()
    {
        // 100,000 used addresses (10.0.0.1 ... ), with every 1000th left free: the walk is linear in the used set,
        // not in the 16-million-address range (a per-address or per-allocation rescan would be far too slow here).
        var cidr = Ipv4Cidr.Parse("10.0.0.0/8");
        var first = IpAddresses.ToUInt32(System.Net.IPAddress.Parse("10.0.0.1"));
        var used = Enumerable.Range(0, 100_000).Where(i => i % 1000 != 999).Select(i => IpAddresses.FromUInt32(first + (uint)i).ToString()).ToList();
        var allocated = Ipam.AllocateLowestFree(cidr, used, 1000);

        Assert.Equal(1000, allocated.Count);
        Assert.Equal(1000, allocated.Distinct().Count());
        var usedSet = used.ToHashSet();
        Assert.DoesNotContain(allocated, usedSet.Contains);
        // The 100 gaps first, then the addresses straight after the used block.
        Assert.Equal(IpAddresses.FromUInt32(first + 999).ToString(), allocated[0]);
        Assert.Equal(IpAddresses.FromUInt32(first + 100_000).ToString(), allocated[100]);
        Assert.Equal(IpAddresses.FromUInt32(first + 100_899).ToString(), allocated[^1]);
    }

    [Fact]
    public void a_batch_equals_allocating_one_address_at_a_time()
    {
        var random = new Random(15);
        for (var round = 0; round < 200; round++)
        {
            var cidr = Ipv4Cidr.Parse($"172.16.{random.Next(0, 256)}.0/{random.Next(24, 31)}");
            var hosts = (int)cidr.HostCount;
            var network = IpAddresses.ToUInt32(cidr.Network);
            var used = Enumerable.Range(0, random.Next(0, hosts + 3))
                .Select(_ => IpAddresses.FromUInt32(network + (uint)random.Next(0, hosts + 2)).ToString()).ToList();
            var count = random.Next(0, hosts + 2);

            var oneByOne = new List<string>();
            var taken = new List<string>(used);
            for (var i = 0; i < count && Ipam.AllocateLowestFree(cidr, taken) is { } next; i++)
            {
                oneByOne.Add(next);
                taken.Add(next);
            }
            Assert.Equal(oneByOne, Ipam.AllocateLowestFree(cidr, used, count));
        }
    }
}
