using Wirety.Events;
using Wirety.Events.Peers;
using Wirety.Events.Segmentation;
using Wirety.Projections.Networks;

namespace Wirety.Tests.Unit.Configs;

/// <summary>
/// Random but reproducible networks and changes for property tests (seeded <see cref="Random"/>).
/// Values come from small pools so that the awkward cases happen often: colliding routes, a route
/// equal to a peer's /32 or to the network CIDR, default routes, jumps without keys, and so on.
/// </summary>
internal sealed class RandomNetworks(int seed)
{
    private static readonly string[] RoutePool =
    [
        "192.168.1.0/24", "192.168.2.0/24", "10.10.0.5/32", "10.10.0.0/24", "0.0.0.0/0", "fd00:1::/64", "::/0",
        "172.16.0.0/12",
    ];

    private readonly Random _random = new(seed);
    private int _nextId = 1;

    public Network Network(int maxPeers = 10)
    {
        var network = TestNetwork.Create(dns: ["10.10.0.53"], domain: "mesh.test", mtu: 1420);
        var count = _random.Next(0, maxPeers + 1);
        for (var i = 0; i < count; i++) network = AddRandomPeer(network);
        return Segmented(network);
    }

    private static readonly string[] PortPool = ["tcp/22", "tcp/8000-8100", "udp/53", "icmp", "tcp", "udp/1-100"];
    private static readonly string[] SubnetPool = ["192.168.10.0/24", "192.168.11.0/24", "172.20.0.0/16", "0.0.0.0/0"];

    /// <summary>
    /// Half the networks get groups, policies, routes and a random default policy, so changes are also tried
    /// under <c>deny</c>, with routes, and with peers in several groups and policies.
    /// </summary>
    public Network Segmented(Network network)
    {
        if (network.Peers.Count == 0 || Chance(0.5)) return network;
        var ids = network.Peers.Select(p => p.Id).ToArray();
        Guid[] SomePeers() => ids.Where(_ => Chance(0.35)).ToArray();
        if (Chance(0.7)) network = Apply(network, new DefaultPolicyChanged(network.Id, DefaultPolicy.Deny, Actor.System, TestNetwork.At));
        var groups = new List<Guid>();
        for (var g = 0; g < _random.Next(0, 4); g++)
        {
            var groupId = TestNetwork.PeerId(10_000 + _nextId++);
            groups.Add(groupId);
            network = Apply(network, new GroupCreated(network.Id, groupId, $"group-{groupId:N}", null, Actor.System, TestNetwork.At));
            network = Apply(network, new GroupMembersSet(network.Id, groupId, SomePeers(), Actor.System, TestNetwork.At));
        }
        PolicyTargets Targets() => new(groups.Where(_ => Chance(0.4)).ToArray(), SomePeers());
        for (var p = 0; p < _random.Next(0, 5); p++)
        {
            var ports = Chance(0.4) ? [] : Enumerable.Range(0, _random.Next(1, 3)).Select(_ => Pick(PortPool)).Distinct().ToArray();
            network = Apply(network, new PolicyCreated(network.Id, TestNetwork.PeerId(20_000 + _nextId++), $"policy-{p}", null,
                Targets(), Targets(), ports, Actor.System, TestNetwork.At));
        }
        for (var r = 0; r < _random.Next(0, 3); r++)
            network = Apply(network, new RouteAdded(network.Id, TestNetwork.PeerId(30_000 + _nextId++), Pick(SubnetPool), Pick(ids),
                groups.Where(_ => Chance(0.3)).ToArray(), Actor.System, TestNetwork.At));
        return network;
    }

    public Network AddRandomPeer(Network network)
    {
        var kind = Pick(PeerKind.Jump, PeerKind.Dynamic, PeerKind.Dynamic, PeerKind.Dynamic, PeerKind.Static);
        var id = TestNetwork.PeerId(_nextId++);
        network = network.AddPeer(
            id, $"peer-{_nextId}", kind,
            key: Chance(0.85) ? TestNetwork.Key(_random.Next(1, 250)) : null,
            endpoint: Chance(kind == PeerKind.Jump ? 0.9 : 0.6) ? $"198.51.100.{_random.Next(1, 255)}:51820" : null,
            listenPort: Chance(0.5) ? 51820 : null,
            isolated: Chance(0.2), fullEncapsulation: Chance(0.2), additionalAllowedIps: Routes());
        return Chance(0.15) ? network.Block(id) : network;
    }

    /// <summary>A random single change of one peer, as the events (or enrollment) would make it.</summary>
    public (Network After, Guid Touched) Change(Network network)
    {
        if (network.Peers.Count == 0 || Chance(0.2))
        {
            var after = AddRandomPeer(network);
            return (after, after.Peers[^1].Id);
        }

        var peer = network.Peers[_random.Next(network.Peers.Count)];
        var id = peer.Id;
        return (_random.Next(6) switch
        {
            0 => network.Remove(id),
            1 => network.Block(id),
            2 => network.Unblock(id),
            3 => network.WithPeer(id, p => p with { PublicKey = Chance(0.8) ? TestNetwork.Key(_random.Next(1, 250)) : null }),
            _ => Apply(network, new PeerUpdated(
                network.Id, id, Chance(0.3) ? $"renamed-{_random.Next(100)}" : peer.Name,
                Chance(0.5) ? peer.Endpoint : Chance(0.5) ? $"203.0.113.{_random.Next(1, 255)}:51820" : null,
                Chance(0.8) ? peer.ListenPort : 51999,
                Chance(0.7) ? peer.Isolated : !peer.Isolated,
                Chance(0.7) ? peer.FullEncapsulation : !peer.FullEncapsulation,
                Chance(0.7) ? peer.AdditionalAllowedIps : Routes(),
                Actor.System, TestNetwork.At)),
        }, id);
    }

    /// <summary>A random group or policy event that the network's state allows (null when there is nothing to change).</summary>
    public object? SegmentationChange(Network network)
    {
        if (network.Peers.Count == 0) return null;
        var ids = network.Peers.Select(p => p.Id).ToArray();
        Guid[] SomePeers() => ids.Where(_ => Chance(0.35)).ToArray();
        var groups = network.Groups.Select(g => g.Id).ToArray();
        PolicyTargets Targets() => new(groups.Where(_ => Chance(0.4)).ToArray(), SomePeers());
        string[] Ports() => Chance(0.4) ? [] : Enumerable.Range(0, _random.Next(1, 3)).Select(_ => Pick(PortPool)).Distinct().ToArray();
        var choice = _random.Next(7);
        if (choice is 1 or 2 && network.Policies.Count == 0) choice = 0;
        if (choice is 3 or 4 or 5 && groups.Length == 0) choice = 6;
        return choice switch
        {
            0 => new PolicyCreated(network.Id, TestNetwork.PeerId(40_000 + _nextId++), "new", null, Targets(), Targets(), Ports(), Actor.System, TestNetwork.At),
            1 => new PolicyUpdated(network.Id, Pick(network.Policies.ToArray()).Id, "changed", null, Targets(), Targets(), Ports(), Actor.System, TestNetwork.At),
            2 => new PolicyDeleted(network.Id, Pick(network.Policies.ToArray()).Id, Actor.System, TestNetwork.At),
            3 => new GroupMembersSet(network.Id, Pick(groups), SomePeers(), Actor.System, TestNetwork.At),
            4 => new GroupDeleted(network.Id, Pick(groups), Actor.System, TestNetwork.At),
            5 => new GroupUpdated(network.Id, Pick(groups), "renamed", "described", Actor.System, TestNetwork.At),
            _ => new GroupCreated(network.Id, TestNetwork.PeerId(50_000 + _nextId++), "fresh", null, Actor.System, TestNetwork.At),
        };
    }

    private static Network Apply(Network network, object @event) => NetworkEvolution.Evolve(network, @event)!;

    private string[] Routes() =>
        Chance(0.7) ? [] : Enumerable.Range(0, _random.Next(1, 3)).Select(_ => Pick(RoutePool)).Distinct().ToArray();

    private bool Chance(double p) => _random.NextDouble() < p;

    private T Pick<T>(params T[] values) => values[_random.Next(values.Length)];
}
