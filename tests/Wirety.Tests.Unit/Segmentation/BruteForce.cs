using System.Net;
using Wirety.Events.Addressing;
using Wirety.Events.Agent;
using Wirety.Events.Peers;
using Wirety.Events.Segmentation;
using Wirety.Projections.Networks;

namespace Wirety.Tests.Unit.Segmentation;

/// <summary>
/// The segmentation rules written the slow, obvious way, as the oracle for property tests: no bit sets, no
/// port-set merging, no rule grouping — one packet at a time, straight from the rules in DESIGN.md.
/// </summary>
internal static class BruteForce
{
    /// <summary>Packets to try: each protocol at ports on and around the pool's range edges, icmp, and some other protocol (null).</summary>
    public static readonly (PortProtocol? Protocol, int Port)[] Probes =
    [
        .. new[] { PortProtocol.Tcp, PortProtocol.Udp }.SelectMany(p => new[] { 1, 21, 22, 23, 52, 53, 54, 100, 101, 7999, 8000, 8050, 8100, 8101, 65535 }
            .Select(port => ((PortProtocol?)p, port))),
        (PortProtocol.Icmp, 0),
        (null, 0),
    ];

    public static bool Allowed(Network network, PeerState from, PeerState to, PortProtocol? protocol, int port)
    {
        if (from.Id == to.Id || from.Blocked || to.Blocked) return false;
        if (from.Isolated && to.Kind != PeerKind.Jump) return false;
        if (to.Isolated && from.Kind != PeerKind.Jump) return false;
        if (network.DefaultPolicy == DefaultPolicy.Allow) return true;
        return network.Policies.Any(p => Covers(network, p.Sources, from) && Covers(network, p.Destinations, to) && PortsMatch(p.Ports, protocol, port));
    }

    private static bool Covers(Network network, PolicyTargets targets, PeerState peer) =>
        targets.Peers.Contains(peer.Id) || targets.Groups.Any(g => network.Groups.Single(x => x.Id == g).Members.Contains(peer.Id));

    public static bool PortsMatch(IReadOnlyList<string> ports, PortProtocol? protocol, int port) =>
        ports.Count == 0 || ports.Any(text =>
        {
            Assert.True(PortRange.TryParse(text, out var range, out _), text);
            return range.Protocol == protocol && (range.Protocol == PortProtocol.Icmp || (port >= range.From && port <= range.To));
        });

    /// <summary>What an agent does with the packet: the first matching rule decides; none matching drops.</summary>
    public static bool FilterAccepts(IReadOnlyList<AgentFilterRule> rules, string source, string destination, PortProtocol? protocol, int port)
    {
        foreach (var rule in rules)
        {
            if (Matches(rule.Sources, source) && Matches(rule.Destinations, destination) && PortsMatch(rule.Ports, protocol, port))
                return rule.Action == AgentFilterRule.Accept;
        }
        return false;
    }

    private static bool Matches(IReadOnlyList<string> prefixes, string address) =>
        prefixes.Count == 0 || prefixes.Any(p => IpPrefix.Parse(p).Contains(IPAddress.Parse(address)));
}
