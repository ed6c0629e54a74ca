using System.Text.Json;
using Wirety.Events.Agent;
using Wirety.Events.Peers;
using Wirety.Events.Addressing;
using Wirety.Projections.Networks;
using Wirety.Projections.Segmentation;

namespace Wirety.Projections.Configs;

/// <summary>The agent's JSON view of a peer's config (the same model the wg-quick text renders).</summary>
public static class AgentConfigMapper
{
    public static AgentConfig From(PeerConfigModel model, long version, HostRules host) => new(
        version.ToString(System.Globalization.CultureInfo.InvariantCulture),
        model.Kind.ToString().ToLowerInvariant(),
        new AgentInterface(model.Interface.Address, model.Interface.ListenPort, model.Interface.Mtu, model.Interface.Dns),
        model.Peers.Select(p => Entry(p)).ToList(),
        host.MasqueradeSources is null ? null : new AgentForwarding(host.MasqueradeSources),
        host.Filter, model.KeyRotationDays);

    /// <summary>One <c>[Peer]</c> entry as the agent sees it, keyed by the peer's id (the agent's index for deltas).</summary>
    public static AgentPeer Entry(PeerEntry entry) => new(entry.PublicKey, entry.Endpoint, entry.AllowedIps, entry.PersistentKeepalive, entry.PeerId);

    /// <summary>
    /// Null for a peer that forwards nothing. A jump forwards for everyone and NATs the fully encapsulated
    /// peers' traffic; a peer that routes go through NATs what comes from the tunnel into the subnet or the
    /// internet behind it (the whole network CIDR: its forward filter decides who gets through), and so
    /// does a jump that is such a peer. A blocked peer forwards nothing.
    /// </summary>
    public static IReadOnlyList<string>? MasqueradeSources(Network network, Guid peerId)
    {
        if (network.FindPeer(peerId) is not { Blocked: false } peer) return null;
        if (network.Routes.Any(r => r.ViaPeerId == peerId))
            return [Ipv4Cidr.TryParse(network.Cidr, out var cidr, out _) ? cidr.ToString() : network.Cidr];
        return peer.Kind == PeerKind.Jump ? FullyEncapsulated(network, peerId) : null;
    }

    /// <summary>The fully encapsulated peers a jump carries to the internet (their /32s).</summary>
    public static IReadOnlyList<string> FullyEncapsulated(Network network, Guid jumpId) =>
        network.Peers.Where(p => p.FullEncapsulation && p.Id != jumpId && ConfigBuilder.IsUsable(p)).Select(p => p.Address + "/32").ToList();

    public static string Serialize(AgentConfig config) => JsonSerializer.Serialize(config, AgentProtocolJson.Default.AgentConfig);

    /// <summary>The same JSON as <see cref="Serialize(AgentConfig)"/>, as UTF-8 bytes.</summary>
    public static byte[] SerializeToUtf8Bytes(AgentConfig config) => JsonSerializer.SerializeToUtf8Bytes(config, AgentProtocolJson.Default.AgentConfig);

    /// <summary>One entry of <see cref="AgentConfig.Peers"/>, as it appears inside the config's JSON.</summary>
    public static byte[] SerializeToUtf8Bytes(AgentPeer peer) => JsonSerializer.SerializeToUtf8Bytes(peer, AgentProtocolJson.Default.AgentPeer);
}

/// <summary>What an agent does to its host beyond WireGuard: forwarding with NAT, and its packet filter.</summary>
public sealed record HostRules(IReadOnlyList<string>? MasqueradeSources, AgentFilter? Filter)
{
    public static readonly HostRules None = new(null, null);

    public static HostRules For(Network network, Guid peerId) => network.FindPeer(peerId) is { } peer
        ? new HostRules(AgentConfigMapper.MasqueradeSources(network, peerId), PeerFilters.For(network, peer))
        : None;
}
