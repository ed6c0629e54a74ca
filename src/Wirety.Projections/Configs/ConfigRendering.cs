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
            : AgentConfigMapper.SerializeToUtf8Bytes(AgentConfigMapper.From(model, version, HostRules.For(source.Network, peerId)));
        return new RenderedConfig(version, ConfigETag.Compute(body), body);
    }
}

/// <summary>
/// Renders the configs of one <see cref="ConfigSource"/>, sharing work between them. Where no peer has
/// routes behind it (<see cref="ConfigBuilder.HasIndependentEntries"/>) a member's agent JSON is the jump
/// entries for its kind (isolated, fully encapsulated) plus, in the mesh, every other member's entry:
/// each entry is serialized once per source and a config is spliced from those bytes, O(its size)
/// instead of building it from all N peers. Output is byte-identical to <see cref="ConfigRendering.Render"/>,
/// which every other case (jumps, wg-quick text, networks with routes behind peers) uses. Thread-safe;
/// meant to live as long as its source is current.
/// </summary>
public sealed class ConfigRenderer(ConfigSource source)
{
    private static readonly byte[] PeersToken = "\"peers\":[]"u8.ToArray();
    private readonly Lazy<SharedParts?> _parts = new(() => SharedParts.Of(source.Network));

    public ConfigSource Source { get; } = source;

    /// <returns>Null when the peer is not in the network.</returns>
    public RenderedConfig? Render(Guid peerId, ConfigFormat format)
    {
        if (format == ConfigFormat.Agent && _parts.Value is { } parts)
            return parts.Peers.TryGetValue(peerId, out var viewer)
                ? viewer.Kind == PeerKind.Jump ? ConfigRendering.Render(Source, peerId, format) : Splice(parts, viewer)
                : null;
        return ConfigRendering.Render(Source, peerId, format);
    }

    private RenderedConfig Splice(SharedParts parts, PeerState viewer)
    {
        var version = Source.VersionOf(viewer.Id);
        // The config with no entries (what a blocked member gets), cut where the entries go.
        var empty = ConfigBuilder.Build(Source.Network with { Peers = [viewer] }, viewer.Id);
        var frame = AgentConfigMapper.SerializeToUtf8Bytes(AgentConfigMapper.From(empty, version, HostRules.For(Source.Network, viewer.Id)));
        if (viewer.Blocked) return new RenderedConfig(version, ConfigETag.Compute(frame), frame);
        var cut = frame.AsSpan().IndexOf(PeersToken) + PeersToken.Length - 1; // just before the closing ']'

        var jumps = parts.JumpEntries[(viewer.Isolated ? 1 : 0) | (viewer.FullEncapsulation ? 2 : 0)];
        ReadOnlySpan<byte> head = [], tail = [];
        if (parts.MeshIndex.TryGetValue(viewer.Id, out var index))
        {
            // Entries are stored as ",{...}" each: the first one written drops its comma when no jump precedes it.
            head = parts.MeshEntries.AsSpan(0, parts.MeshOffsets[index]);
            tail = parts.MeshEntries.AsSpan(parts.MeshOffsets[index + 1]);
            if (jumps.Length == 0)
            {
                if (head.Length > 0) head = head[1..];
                else if (tail.Length > 0) tail = tail[1..];
            }
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

    /// <summary>The bytes members' configs share: the jump entries per kind of member, and each mesh member's entry.</summary>
    private sealed class SharedParts
    {
        public required Dictionary<Guid, PeerState> Peers { get; init; }
        public required Dictionary<Guid, int> MeshIndex { get; init; }
        /// <summary>",{entry}" per mesh member, concatenated; member i spans [MeshOffsets[i], MeshOffsets[i+1]).</summary>
        public required byte[] MeshEntries { get; init; }
        public required int[] MeshOffsets { get; init; }
        /// <summary>"{jump},{jump}" by (isolated ? 1 : 0) | (fullEncapsulation ? 2 : 0).</summary>
        public required byte[][] JumpEntries { get; init; }

        public static SharedParts? Of(Network network)
        {
            if (!ConfigBuilder.HasIndependentEntries(network)) return null;
            var members = network.Peers.Where(ConfigBuilder.IsMeshMember).ToArray();
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
            var jumpEntries = Enumerable.Range(0, 4).Select(kind =>
            {
                var list = ConfigBuilder.MemberJumpEntries(network, jumps, isolated: (kind & 1) != 0, fullEncapsulation: (kind & 2) != 0);
                using var bytes = new MemoryStream();
                foreach (var entry in list)
                {
                    if (bytes.Position > 0) bytes.WriteByte((byte)',');
                    bytes.Write(Serialize(entry));
                }
                return bytes.ToArray();
            }).ToArray();
            return new SharedParts
            {
                Peers = network.Peers.ToDictionary(p => p.Id),
                MeshIndex = members.Select((m, i) => (m.Id, i)).ToDictionary(x => x.Id, x => x.i),
                MeshEntries = entries.ToArray(), MeshOffsets = offsets, JumpEntries = jumpEntries,
            };
        }

        private static byte[] Serialize(PeerEntry entry) =>
            AgentConfigMapper.SerializeToUtf8Bytes(AgentConfigMapper.Entry(entry));
    }
}
