using System.Text;
using Wirety.Events.Agent;
using Wirety.Events.Peers;
using Wirety.Projections.Networks;

namespace Wirety.Projections.Configs;

public enum ConfigFormat
{
    /// <summary>wg-quick text (admins, static peers).</summary>
    WgQuick,
    /// <summary>The agent protocol's JSON (<see cref="AgentConfig"/>).</summary>
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
        var body = format == ConfigFormat.WgQuick
            ? Encoding.UTF8.GetBytes(WgQuickRenderer.Render(model))
            : AgentConfigMapper.SerializeToUtf8Bytes(AgentConfigMapper.From(model, version, AgentConfigMapper.MasqueradeSources(source.Network, peerId)));
        return new RenderedConfig(version, ConfigETag.Compute(body), body);
    }
}

/// <summary>
/// Renders the configs of one <see cref="ConfigSource"/>, sharing work between them: in a mesh every
/// member's agent JSON is the same list of entries minus its own, so each entry is serialized once per
/// source and a member's config is spliced from those bytes (O(N) copying instead of building and
/// serializing N entries per config). Output is byte-identical to <see cref="ConfigRendering.Render"/>,
/// which every other case uses. Thread-safe; meant to live as long as its source is current.
/// </summary>
public sealed class ConfigRenderer(ConfigSource source)
{
    private static readonly byte[] PeersToken = "\"peers\":[]"u8.ToArray();
    private readonly Lazy<MeshParts?> _mesh = new(() => MeshParts.Of(source.Network));

    public ConfigSource Source { get; } = source;

    /// <returns>Null when the peer is not in the network.</returns>
    public RenderedConfig? Render(Guid peerId, ConfigFormat format)
    {
        if (format == ConfigFormat.Agent && _mesh.Value is { } mesh && mesh.IndexOf(peerId) is var index and >= 0)
            return Splice(mesh, index);
        return ConfigRendering.Render(Source, peerId, format);
    }

    private RenderedConfig Splice(MeshParts mesh, int index)
    {
        var viewer = mesh.Members[index];
        var version = Source.VersionOf(viewer.Id);
        // The config with no entries, cut where the entries go.
        var empty = ConfigBuilder.Build(Source.Network with { Peers = [viewer] }, viewer.Id);
        var frame = AgentConfigMapper.SerializeToUtf8Bytes(AgentConfigMapper.From(empty, version, null));
        var cut = frame.AsSpan().IndexOf(PeersToken) + PeersToken.Length - 1; // just before the closing ']'

        var jumps = mesh.JumpEntries[viewer.FullEncapsulation ? 1 : 0];
        // Entries are stored as ",{...}" each: the first one written drops its comma when no jump precedes it.
        var head = mesh.Entries.AsSpan(0, mesh.Offsets[index]);
        var tail = mesh.Entries.AsSpan(mesh.Offsets[index + 1]);
        if (jumps.Length == 0)
        {
            if (head.Length > 0) head = head[1..];
            else if (tail.Length > 0) tail = tail[1..];
        }
        var body = new byte[frame.Length + jumps.Length + head.Length + tail.Length];
        var at = Copy(frame.AsSpan(0, cut), body, 0);
        at = Copy(jumps, body, at);
        at = Copy(head, body, at);
        at = Copy(tail, body, at);
        Copy(frame.AsSpan(cut), body, at);
        return new RenderedConfig(version, ConfigETag.Compute(body), body);
    }

    private static int Copy(ReadOnlySpan<byte> from, Span<byte> to, int at)
    {
        from.CopyTo(to[at..]);
        return at + from.Length;
    }

    /// <summary>The shared bytes of a mesh: each member's entry and the jump entries, as serialized inside the peers array.</summary>
    private sealed class MeshParts
    {
        public required PeerState[] Members { get; init; }
        public required Dictionary<Guid, int> Index { get; init; }
        /// <summary>",{entry}" per member, concatenated; member i spans [Offsets[i], Offsets[i+1]).</summary>
        public required byte[] Entries { get; init; }
        public required int[] Offsets { get; init; }
        /// <summary>"{jump},{jump}" for a member without / with full encapsulation (members are never isolated).</summary>
        public required byte[][] JumpEntries { get; init; }

        public int IndexOf(Guid peerId) => Index.TryGetValue(peerId, out var i) ? i : -1;

        public static MeshParts? Of(Network network)
        {
            if (!ConfigBuilder.HasIndependentEntries(network)) return null;
            var members = network.Peers.Where(ConfigBuilder.IsMeshMember).ToArray();
            if (members.Length < 2) return null;
            var jumps = network.Peers.Where(p => p.Kind == PeerKind.Jump && ConfigBuilder.IsUsable(p)).ToList();

            using var entries = new MemoryStream();
            var offsets = new int[members.Length + 1];
            for (var i = 0; i < members.Length; i++)
            {
                offsets[i] = (int)entries.Position;
                entries.WriteByte((byte)',');
                entries.Write(Serialize(ConfigBuilder.MeshEntry(members[i])));
            }
            offsets[^1] = (int)entries.Position;
            var jumpEntries = new[] { false, true }.Select(fullEncapsulation =>
            {
                var list = ConfigBuilder.MemberJumpEntries(network, jumps, isolated: false, fullEncapsulation);
                return list.Count == 0 ? [] : Encoding.UTF8.GetBytes(string.Join(',', list.Select(e => Encoding.UTF8.GetString(Serialize(e)))));
            }).ToArray();
            return new MeshParts
            {
                Members = members, Index = members.Select((m, i) => (m.Id, i)).ToDictionary(x => x.Id, x => x.i),
                Entries = entries.ToArray(), Offsets = offsets, JumpEntries = jumpEntries,
            };
        }

        private static byte[] Serialize(PeerEntry entry) =>
            AgentConfigMapper.SerializeToUtf8Bytes(new AgentPeer(entry.PublicKey, entry.Endpoint, entry.AllowedIps, entry.PersistentKeepalive));
    }
}
