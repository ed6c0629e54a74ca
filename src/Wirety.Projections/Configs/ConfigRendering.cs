using System.Text;

namespace Wirety.Projections.Configs;

public enum ConfigFormat
{
    /// <summary>wg-quick text (admins, static peers).</summary>
    WgQuick,
    /// <summary>The agent protocol's JSON (<see cref="Events.Agent.AgentConfig"/>).</summary>
    Agent,
}

/// <summary>One peer's config as served: UTF-8 bytes, a strong ETag that hashes exactly those bytes, and its version.</summary>
public sealed record RenderedConfig(long Version, string ETag, byte[] Body);

/// <summary>
/// Renders a peer's config from a <see cref="ConfigSource"/>. Pure: equal sources give byte-identical
/// output and the same ETag on every instance and after every rebuild.
/// </summary>
public static class ConfigRendering
{
    /// <returns>Null when the peer is not in the network.</returns>
    public static RenderedConfig? Render(ConfigSource source, Guid peerId, ConfigFormat format)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Network.FindPeer(peerId) is null) return null;
        var model = ConfigBuilder.Build(source.Network, peerId);
        var version = source.VersionOf(peerId);
        var text = format == ConfigFormat.WgQuick
            ? WgQuickRenderer.Render(model)
            : AgentConfigMapper.Serialize(AgentConfigMapper.From(model, version, AgentConfigMapper.MasqueradeSources(source.Network, peerId)));
        var body = Encoding.UTF8.GetBytes(text);
        return new RenderedConfig(version, ConfigETag.Compute(body), body);
    }
}
