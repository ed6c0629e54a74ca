using System.Text.Json;
using Wirety.Events.Agent;
using Wirety.Events.Peers;
using Wirety.Projections.Networks;

namespace Wirety.Projections.Configs;

/// <summary>The agent's JSON view of a peer's config (the same model the wg-quick text renders).</summary>
public static class AgentConfigMapper
{
    public static AgentConfig From(PeerConfigModel model, long version, IReadOnlyList<string>? masqueradeSources) => new(
        version.ToString(System.Globalization.CultureInfo.InvariantCulture),
        model.Kind.ToString().ToLowerInvariant(),
        new AgentInterface(model.Interface.Address, model.Interface.ListenPort, model.Interface.Mtu, model.Interface.Dns),
        model.Peers.Select(p => new AgentPeer(p.PublicKey, p.Endpoint, p.AllowedIps, p.PersistentKeepalive)).ToList(),
        masqueradeSources is null ? null : new AgentForwarding(masqueradeSources));

    /// <summary>
    /// A jump forwards for everyone and NATs the fully encapsulated peers' traffic; null for other kinds
    /// (and for a blocked jump, which forwards nothing).
    /// </summary>
    public static IReadOnlyList<string>? MasqueradeSources(Network network, Guid peerId) =>
        network.FindPeer(peerId) is { Kind: PeerKind.Jump, Blocked: false }
            ? network.Peers.Where(p => p.FullEncapsulation && p.Id != peerId && ConfigBuilder.IsUsable(p))
                .Select(p => p.Address + "/32").ToList()
            : null;

    public static string Serialize(AgentConfig config) => JsonSerializer.Serialize(config, AgentProtocolJson.Default.AgentConfig);

    /// <summary>The same JSON as <see cref="Serialize(AgentConfig)"/>, as UTF-8 bytes.</summary>
    public static byte[] SerializeToUtf8Bytes(AgentConfig config) => JsonSerializer.SerializeToUtf8Bytes(config, AgentProtocolJson.Default.AgentConfig);

    /// <summary>One entry of <see cref="AgentConfig.Peers"/>, as it appears inside the config's JSON.</summary>
    public static byte[] SerializeToUtf8Bytes(AgentPeer peer) => JsonSerializer.SerializeToUtf8Bytes(peer, AgentProtocolJson.Default.AgentPeer);
}
