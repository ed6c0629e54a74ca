using Wirety.Events;
using Wirety.Events.Addressing;
using Wirety.Events.Networks;
using Wirety.Events.Peers;
using Wirety.Events.Segmentation;
using Wirety.Projections.Addressing;
using Wirety.Projections.Networks;

namespace Wirety.Tests.Unit;

/// <summary>
/// Builds network states for tests the way production does: by folding events through
/// <see cref="NetworkEvolution"/>. Enrollment and observed endpoints have no events yet, so keys
/// of jump/dynamic peers are set on the state directly.
/// </summary>
internal static class TestNetwork
{
    public static readonly Guid NetworkId = Guid.Parse("00000000-0000-0000-0000-00000000aaaa");
    public static readonly DateTimeOffset At = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    public static Network Create(
        string cidr = "10.10.0.0/24", string[]? dns = null, string? domain = null, int? mtu = null) =>
        NetworkEvolution.Evolve(null, new NetworkCreated(
            NetworkId, "test-net", cidr, domain, dns ?? [], mtu, Actor.System, At))!;

    /// <summary>Deterministic fake ids: <c>00000000-0000-0000-0000-0000000000NN</c>.</summary>
    public static Guid PeerId(int n) => Guid.Parse($"00000000-0000-0000-0000-{n:x12}");

    /// <summary>A fixed, well-formed (44-char base64) WireGuard key, distinct per <paramref name="n"/>.</summary>
    public static string Key(int n) => Convert.ToBase64String(Enumerable.Repeat((byte)n, 32).ToArray());

    /// <summary>
    /// Adds a peer through <see cref="PeerAdded"/> with the lowest free address, then sets the key
    /// (for jump/dynamic peers that stands for enrollment).
    /// </summary>
    public static Network AddPeer(
        this Network network, Guid id, string name, PeerKind kind, string? key = null, string? endpoint = null,
        int? listenPort = null, bool isolated = false, bool fullEncapsulation = false,
        string[]? additionalAllowedIps = null, string? address = null)
    {
        address ??= Ipam.AllocateLowestFree(Ipv4Cidr.Parse(network.Cidr), network.Peers.Select(p => p.Address))
            ?? throw new InvalidOperationException("test network is full");
        var added = NetworkEvolution.Evolve(network, new PeerAdded(
            network.Id, id, name, kind, address, kind == PeerKind.Static ? key : null, endpoint, listenPort,
            isolated, fullEncapsulation, additionalAllowedIps ?? [], Actor.System, At))!;
        return key is null ? added : added.WithPeer(id, p => p with { PublicKey = key });
    }

    public static Network Block(this Network network, Guid id) =>
        NetworkEvolution.Evolve(network, new PeerBlocked(network.Id, id, "test", Actor.System, At))!;

    public static Network Unblock(this Network network, Guid id) =>
        NetworkEvolution.Evolve(network, new PeerUnblocked(network.Id, id, null, Actor.System, At))!;

    public static Network Remove(this Network network, Guid id) =>
        NetworkEvolution.Evolve(network, new PeerRemoved(network.Id, id, Actor.System, At))!;

    public static Network WithPeer(this Network network, Guid id, Func<PeerState, PeerState> change)
    {
        var index = network.Peers.FindIndex(p => p.Id == id);
        return network with { Peers = network.Peers.SetItem(index, change(network.Peers[index])) };
    }

    public static Network Deny(this Network network) =>
        NetworkEvolution.Evolve(network, new DefaultPolicyChanged(network.Id, DefaultPolicy.Deny, Actor.System, At))!;

    public static Network Group(this Network network, Guid id, string name, params Guid[] members)
    {
        var created = NetworkEvolution.Evolve(network, new GroupCreated(network.Id, id, name, null, Actor.System, At))!;
        return NetworkEvolution.Evolve(created, new GroupMembersSet(network.Id, id, members, Actor.System, At))!;
    }

    /// <summary>A policy from <paramref name="sources"/> to <paramref name="destinations"/>: each id a peer's or a group's.</summary>
    public static Network Policy(this Network network, Guid id, Guid[] sources, Guid[] destinations, params string[] ports)
    {
        PolicyTargets Targets(Guid[] ids) => new(ids.Where(i => network.FindGroup(i) is not null).ToArray(), ids.Where(i => network.FindPeer(i) is not null).ToArray());
        return NetworkEvolution.Evolve(network, new PolicyCreated(network.Id, id, $"policy-{id:N}", null, Targets(sources), Targets(destinations), ports, Actor.System, At))!;
    }

    public static Network Route(this Network network, Guid id, string cidr, Guid via, params Guid[] groups) =>
        NetworkEvolution.Evolve(network, new RouteAdded(network.Id, id, cidr, via, groups, Actor.System, At))!;
}
