using System.Net;
using Wirety.Events.Addressing;
using Wirety.Projections.Addressing;

namespace Wirety.Tests.Unit.Addressing;

public class IpamTests
{
    private static readonly Ipv4Cidr Net24 = Ipv4Cidr.Parse("10.0.0.0/24");

    private static uint ValueOf(IPAddress address) => IpAddresses.ToUInt32(address);

    private static string TextOf(uint address) => IpAddresses.FromUInt32(address).ToString();

    [Fact]
    public void the_first_peer_gets_the_first_host_address() =>
        Assert.Equal("10.0.0.1", Ipam.AllocateLowestFree(Net24, []));

    [Fact]
    public void allocation_takes_the_next_address_after_a_contiguous_run() =>
        Assert.Equal("10.0.0.4", Ipam.AllocateLowestFree(Net24, ["10.0.0.3", "10.0.0.1", "10.0.0.2"]));

    [Fact]
    public void an_address_released_by_a_deleted_peer_is_reused_first() =>
        Assert.Equal("10.0.0.2", Ipam.AllocateLowestFree(Net24, ["10.0.0.1", "10.0.0.3", "10.0.0.4"]));

    [Fact]
    public void the_network_and_broadcast_addresses_are_never_allocated()
    {
        var all = Enumerable.Range(1, 254).Select(i => $"10.0.0.{i}").ToList();
        Assert.Null(Ipam.AllocateLowestFree(Net24, all));
        Assert.Equal("10.0.0.254", Ipam.AllocateLowestFree(Net24, all.Where(a => a != "10.0.0.254")));
    }

    [Fact]
    public void a_slash_30_holds_exactly_two_peers()
    {
        var cidr = Ipv4Cidr.Parse("192.168.7.4/30");
        Assert.Equal("192.168.7.5", Ipam.AllocateLowestFree(cidr, []));
        Assert.Equal("192.168.7.6", Ipam.AllocateLowestFree(cidr, ["192.168.7.5"]));
        Assert.Null(Ipam.AllocateLowestFree(cidr, ["192.168.7.5", "192.168.7.6"]));
    }

    [Theory]
    [InlineData("192.168.7.4/31")]
    [InlineData("192.168.7.4/32")]
    public void a_prefix_without_host_addresses_allocates_nothing(string text)
    {
        Assert.Null(Ipam.AllocateLowestFree(Ipv4Cidr.Parse(text), []));
        Assert.Equal(new IpamCapacity(0, 0, 0), Ipam.Capacity(Ipv4Cidr.Parse(text), []));
    }

    [Fact]
    public void used_entries_outside_the_network_or_unparseable_do_not_block_anything() =>
        Assert.Equal("10.0.0.1", Ipam.AllocateLowestFree(Net24, ["10.0.1.1", "10.0.0.0", "10.0.0.255", "junk", ""]));

    [Fact]
    public void a_slash_8_with_200k_shuffled_peers_allocates_the_one_hole_then_the_address_after_the_last()
    {
        var cidr = Ipv4Cidr.Parse("10.0.0.0/8");
        // 200k peers occupying 10.0.0.1 upwards, shuffled, plus one hole near the end.
        var used = Enumerable.Range(1, 200_000).Select(i => TextOf(ValueOf(cidr.Network) + (uint)i)).ToList();
        var hole = used[150_000];
        used.RemoveAt(150_000);
        new Random(1).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(used));

        Assert.Equal(hole, Ipam.AllocateLowestFree(cidr, used));
        Assert.Equal(TextOf(ValueOf(cidr.Network) + 200_001), Ipam.AllocateLowestFree(cidr, [.. used, hole]));
        Assert.Equal("10.0.0.1", Ipam.AllocateLowestFree(cidr, ["10.255.255.254"]));
    }

    [Fact]
    public void capacity_counts_distinct_used_host_addresses()
    {
        var capacity = Ipam.Capacity(Net24, ["10.0.0.1", "10.0.0.2", "10.0.0.2", "10.0.0.9", "10.9.9.9", "10.0.0.255"]);
        Assert.Equal(new IpamCapacity(Total: 254, Used: 3, Free: 251), capacity);
    }

    [Fact]
    public void a_free_requested_address_inside_the_network_is_accepted() =>
        Assert.Null(Ipam.ValidateRequested(Net24, "10.0.0.77", ["10.0.0.1"]));

    [Theory]
    [InlineData("10.0.1.5", "10.0.1.5 is outside the network 10.0.0.0/24.")]
    [InlineData("10.0.0.0", "10.0.0.0 is the network address of 10.0.0.0/24 and cannot be assigned to a peer.")]
    [InlineData("10.0.0.255", "10.0.0.255 is the broadcast address of 10.0.0.0/24 and cannot be assigned to a peer.")]
    [InlineData("10.0.0.1", "10.0.0.1 is already assigned to another peer.")]
    [InlineData("10.0.0.1/32", "'10.0.0.1/32' is not an IPv4 address (four decimal octets 0-255, e.g. 10.0.0.5).")]
    [InlineData("10.0.0.01", "'10.0.0.01' is not an IPv4 address (four decimal octets 0-255, e.g. 10.0.0.5).")]
    [InlineData("", "'' is not an IPv4 address (four decimal octets 0-255, e.g. 10.0.0.5).")]
    public void a_requested_address_that_cannot_be_assigned_is_refused_with_the_reason(string requested, string expected) =>
        Assert.Equal(expected, Ipam.ValidateRequested(Net24, requested, ["10.0.0.1", "10.0.0.2"]));

    [Fact]
    public void allocated_addresses_are_always_inside_the_network_unique_and_the_lowest_free()
    {
        var random = new Random(2024);
        for (var round = 0; round < 300; round++)
        {
            var prefixLength = random.Next(8, 31);
            var cidr = Ipv4Cidr.Containing(IpAddresses.FromUInt32((uint)random.NextInt64(0, 1L << 32)), prefixLength);
            var firstHost = ValueOf(cidr.Network) + 1;
            var span = Math.Min(cidr.HostCount, 2_000); // where the random used addresses fall
            var used = Enumerable.Range(0, random.Next(0, 60))
                .Select(_ => TextOf(firstHost + (uint)random.NextInt64(0, span)))
                .ToList();
            var taken = used.Select(a => ValueOf(IPAddress.Parse(a))).ToHashSet();

            for (var i = 0; i < 20 && taken.Count < cidr.HostCount; i++)
            {
                var allocated = Ipam.AllocateLowestFree(cidr, used);
                Assert.NotNull(allocated);
                Assert.True(IpAddresses.TryParseIPv4(allocated, out var address));
                var value = ValueOf(address);
                Assert.True(cidr.Contains(address), $"{allocated} outside {cidr}");
                Assert.NotEqual(cidr.Network, address);
                Assert.NotEqual(cidr.Broadcast, address);
                Assert.True(taken.Add(value), $"{allocated} handed out twice in {cidr}");
                // Lowest free: every host below it was already taken.
                Assert.Equal(value - firstHost, (uint)taken.Count(t => t < value));
                // Allocation and validation of a requested address agree.
                Assert.Null(Ipam.ValidateRequested(cidr, allocated, used));
                used.Add(allocated);
                Assert.NotNull(Ipam.ValidateRequested(cidr, allocated, used));
            }
            Assert.Equal(taken.Count, Ipam.Capacity(cidr, used).Used);
        }
    }
}
