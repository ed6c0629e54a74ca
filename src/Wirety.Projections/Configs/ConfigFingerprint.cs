using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Wirety.Projections.Configs;

/// <summary>
/// A hash of a peer's config content: the model (everything the wg-quick text and agent JSON show) and
/// the jump's masquerade sources. Used to tell whether a change altered a config without rendering or
/// storing it. Cheaper than rendering: fields go straight into one buffer, hashed once.
/// </summary>
public static class ConfigFingerprint
{
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;

    public static string Of(PeerConfigModel model, IReadOnlyList<string>? masqueradeSources)
    {
        ArgumentNullException.ThrowIfNull(model);
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(64 * 1024);
        buffer.ResetWrittenCount();
        Add(buffer, model.PeerName);
        Add(buffer, model.Kind.ToString());
        Add(buffer, model.Interface.Address);
        Add(buffer, model.Interface.ListenPort?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add(buffer, model.Interface.Mtu?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var dns in model.Interface.Dns) Add(buffer, dns);
        Add(buffer, "|peers");
        foreach (var peer in model.Peers)
        {
            Add(buffer, peer.PeerId.ToString("N"));
            Add(buffer, peer.Name);
            Add(buffer, peer.Kind.ToString());
            Add(buffer, peer.PublicKey);
            Add(buffer, peer.Endpoint);
            foreach (var ip in peer.AllowedIps) Add(buffer, ip);
            Add(buffer, peer.PersistentKeepalive?.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Add(buffer, "|");
        }
        Add(buffer, masqueradeSources is null ? "|no-forwarding" : "|forwarding");
        foreach (var source in masqueradeSources ?? []) Add(buffer, source);

        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(buffer.WrittenSpan, hash);
        return Convert.ToHexStringLower(hash[..16]);
    }

    /// <summary>Each value with a terminator that cannot occur in it (null gets its own marker).</summary>
    private static void Add(ArrayBufferWriter<byte> buffer, string? value)
    {
        if (value is null)
        {
            buffer.Write("\u0001\u0000"u8);
            return;
        }
        var span = buffer.GetSpan(Encoding.UTF8.GetMaxByteCount(value.Length) + 1);
        var written = Encoding.UTF8.GetBytes(value, span);
        span[written] = 0;
        buffer.Advance(written + 1);
    }
}
