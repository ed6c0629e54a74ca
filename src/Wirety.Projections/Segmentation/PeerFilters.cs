using Wirety.Events.Addressing;
using Wirety.Events.Agent;
using Wirety.Events.Peers;
using Wirety.Events.Segmentation;
using Wirety.Projections.Configs;
using Wirety.Projections.Networks;

namespace Wirety.Projections.Segmentation;

/// <summary>
/// The packet filter an agent enforces on its WireGuard interface (semantics: <see cref="AgentFilter"/>),
/// derived from <see cref="AccessRules"/>. WireGuard only accepts a packet from a peer whose AllowedIPs
/// cover its source, and the jump lists every peer with its /32 only, so a source address on the tunnel
/// is the peer's own: the jump filters what it relays, every agent filters what reaches it, and a host
/// owner who rewrites his own WireGuard config still gets no further than policy allows.
/// <list type="bullet">
/// <item><b>Input</b> (every agent): under <c>allow</c> anything (isolated peers: only from jumps); under
/// <c>deny</c> one accept per policy naming this peer as a destination, from that policy's sources.</item>
/// <item><b>Forward</b> (jumps, and peers that routes go through): blocked peers dropped; the policies (or, under
/// <c>allow</c>, everything inside the network but isolated peers); the routes to the peers they are offered to;
/// everything else inside the network dropped; then traffic leaving the mesh: a jump's fully encapsulated
/// peers, an exit node's route users.</item>
/// </list>
/// Static peers have no agent (their filtering is the jump's), so they get none.
/// </summary>
public static class PeerFilters
{
    private static readonly IReadOnlyList<string> Any = [];

    public static AgentFilter? For(Network network, PeerState viewer)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(viewer);
        if (viewer.Kind == PeerKind.Static) return null;
        var isJump = viewer.Kind == PeerKind.Jump;
        if (viewer.Blocked) return new AgentFilter([], isJump ? [] : null);
        var rules = AccessRules.Of(network);
        return new AgentFilter(Input(rules, viewer), Forward(rules, viewer));
    }

    private static List<AgentFilterRule> Input(AccessRules rules, PeerState viewer)
    {
        var network = rules.Network;
        if (network.DefaultPolicy == DefaultPolicy.Allow)
        {
            if (!viewer.Isolated) return [Accept(Any, Any, Any)];
            var jumps = Addresses(network.Peers.Where(p => p.Kind == PeerKind.Jump && ConfigBuilder.IsUsable(p) && AccessRules.PolicyApplies(p, viewer)));
            return jumps.Count == 0 ? [] : [Accept(jumps, Any, Any)];
        }

        var result = new List<AgentFilterRule>();
        foreach (var index in rules.PoliciesTo(viewer.Id))
        {
            var (sources, _, ports) = rules.Policy(index);
            var from = Addresses(sources.Select(i => network.Peers[i])
                .Where(s => ConfigBuilder.IsUsable(s) && AccessRules.PolicyApplies(s, viewer)));
            if (from.Count > 0) result.Add(Accept(from, Any, ports.ToTexts()));
        }
        return result;
    }

    private static List<AgentFilterRule>? Forward(AccessRules rules, PeerState viewer)
    {
        var network = rules.Network;
        var isJump = viewer.Kind == PeerKind.Jump;
        var through = network.Routes.Where(r => r.ViaPeerId == viewer.Id).ToList();
        if (!isJump && through.Count == 0) return null;

        var cidr = Ipv4Cidr.TryParse(network.Cidr, out var parsed, out _) ? parsed.ToString() : network.Cidr;
        var result = new List<AgentFilterRule>();
        if (isJump)
        {
            var blocked = Addresses(network.Peers.Where(p => p.Blocked));
            if (blocked.Count > 0) result.AddRange([Drop(blocked, Any), Drop(Any, blocked)]);

            var relayed = RoutesRelayedByJumps(network).ToList();
            if (network.DefaultPolicy == DefaultPolicy.Allow)
            {
                // Isolated peers reach jumps (and the routes behind them) only; they may still leave the mesh
                // when fully encapsulated, so only their traffic into the mesh is dropped.
                var isolated = Addresses(network.Peers.Where(p => p.Isolated && p.Kind != PeerKind.Jump && ConfigBuilder.IsUsable(p)));
                if (isolated.Count > 0)
                {
                    var intoMesh = relayed.Where(r => network.FindPeer(r.ViaPeerId) is not { Kind: PeerKind.Jump }).Select(r => r.Cidr);
                    result.AddRange([Drop(isolated, [cidr, .. intoMesh.Distinct()]), Drop(Any, isolated)]);
                }
                result.Add(Accept(Any, [cidr], Any));
            }
            else
            {
                for (var p = 0; p < network.Policies.Count; p++)
                {
                    var (sources, destinations, ports) = rules.Policy(p);
                    var from = Addresses(sources.Select(i => network.Peers[i]).Where(Relayed));
                    var to = Addresses(destinations.Select(i => network.Peers[i]).Where(Relayed));
                    if (from.Count > 0 && to.Count > 0) result.Add(Accept(from, to, ports.ToTexts()));
                }
            }

            // A jump relays every subnet route (exit routes are reached directly, never through a jump).
            foreach (var route in relayed) result.AddRange(RouteAccepts(rules, route, [route.Cidr]));
            result.Add(Drop(Any, [cidr, .. relayed.Select(r => r.Cidr).Distinct()]));
            var egress = AgentConfigMapper.FullyEncapsulated(network, viewer.Id);
            if (egress.Count > 0) result.Add(Accept(egress, Any, Any));
            return result;
        }

        foreach (var route in through.Where(r => !AccessRules.IsExit(r))) result.AddRange(RouteAccepts(rules, route, [route.Cidr]));
        result.Add(Drop(Any, [cidr]));
        foreach (var route in through.Where(AccessRules.IsExit)) result.AddRange(RouteAccepts(rules, route, Any));
        return result;
    }

    /// <summary>Usable, and not an isolated non-jump (that one talks to jumps only, and jumps are never relayed to).</summary>
    private static bool Relayed(PeerState peer) => ConfigBuilder.IsUsable(peer) && !(peer.Isolated && peer.Kind != PeerKind.Jump);

    /// <summary>
    /// Subnet routes a jump forwards: the explicit non-exit routes and, as routes offered to every peer, each
    /// peer's legacy <c>additionalAllowedIps</c>.
    /// </summary>
    public static IEnumerable<RouteState> RoutesRelayedByJumps(Network network)
    {
        foreach (var route in network.Routes)
            if (!AccessRules.IsExit(route)) yield return route;
        foreach (var peer in network.Peers)
            foreach (var text in peer.AdditionalAllowedIps)
                if (IpPrefix.TryParse(text, out var prefix, out _) && !prefix.IsDefault)
                    yield return new RouteState { Cidr = prefix.ToString(), ViaPeerId = peer.Id };
    }

    /// <summary>One accept per distinct port set, from the usable peers the route is offered to.</summary>
    private static IEnumerable<AgentFilterRule> RouteAccepts(AccessRules rules, RouteState route, IReadOnlyList<string> destinations)
    {
        var network = rules.Network;
        if (network.FindPeer(route.ViaPeerId) is not { } via || !ConfigBuilder.IsUsable(via)) yield break;
        if (network.DefaultPolicy == DefaultPolicy.Allow && route.Groups.IsEmpty && !via.Isolated)
        {
            // Everyone may use it; isolated and blocked sources were dropped above or never get here.
            yield return Accept(Any, destinations, Any);
            yield break;
        }
        var bySet = new Dictionary<string, (PortSet Ports, List<PeerState> Peers)>();
        foreach (var peer in network.Peers)
        {
            if (!ConfigBuilder.IsUsable(peer)) continue;
            var ports = rules.RouteAccess(route, peer);
            if (ports.IsEmpty) continue;
            if (!bySet.TryGetValue(ports.Key, out var entry)) bySet[ports.Key] = entry = (ports, []);
            entry.Peers.Add(peer);
        }
        foreach (var (_, (ports, peers)) in bySet.OrderBy(e => e.Key, StringComparer.Ordinal))
            yield return Accept(Addresses(peers), destinations, ports.ToTexts());
    }

    private static List<string> Addresses(IEnumerable<PeerState> peers) => peers.Select(p => p.Address + "/32").ToList();

    private static AgentFilterRule Accept(IReadOnlyList<string> sources, IReadOnlyList<string> destinations, IReadOnlyList<string> ports) =>
        new(AgentFilterRule.Accept, sources, destinations, ports);

    private static AgentFilterRule Drop(IReadOnlyList<string> sources, IReadOnlyList<string> destinations) =>
        new(AgentFilterRule.Drop, sources, destinations, Any);
}
