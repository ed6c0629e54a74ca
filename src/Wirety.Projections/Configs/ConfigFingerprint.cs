using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Wirety.Projections.Configs;

/// <summary>
/// A hash of a peer's config content: everything the wg-quick text and the agent JSON show (not the
/// version), plus what the agent does to its host (<see cref="HostRules"/>: masquerade sources and packet filter). It tells whether a change altered a config without
/// rendering or storing it. The entries go in as a sum of per-entry hashes: a config's entry order is
/// fixed by the entries themselves (jumps first, then creation order), and a sum lets
/// <see cref="ConfigBuilder.Fingerprints"/> derive N configs that share N−1 entries from one total in
/// O(N) instead of hashing N entries N times. Both ways give the same value for the same content.
/// </summary>
public static class ConfigFingerprint
{
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;

    public static string Of(PeerConfigModel model, HostRules host)
    {
        ArgumentNullException.ThrowIfNull(model);
        var entries = UInt128.Zero;
        foreach (var entry in model.Peers) entries += Entry(entry);
        return Combine(model, entries, host);
    }

    /// <summary>One <c>[Peer]</c> entry's hash, including the peer it is for.</summary>
    public static UInt128 Entry(PeerEntry entry)
    {
        var buffer = Buffer();
        Add(buffer, entry.PeerId.ToString("N"));
        Add(buffer, entry.Name);
        Add(buffer, entry.Kind.ToString());
        Add(buffer, entry.PublicKey);
        Add(buffer, entry.Endpoint);
        foreach (var ip in entry.AllowedIps) Add(buffer, ip);
        Add(buffer, entry.PersistentKeepalive?.ToString(CultureInfo.InvariantCulture));
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(buffer.WrittenSpan, hash);
        return BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }

    /// <summary>The fingerprint of <paramref name="header"/> (its <see cref="PeerConfigModel.Peers"/> ignored) with entries summing to <paramref name="entries"/>.</summary>
    public static string Combine(PeerConfigModel header, UInt128 entries, HostRules host)
    {
        var buffer = Buffer();
        Add(buffer, header.NetworkId.ToString("N"));
        Add(buffer, header.PeerId.ToString("N"));
        Add(buffer, header.PeerName);
        Add(buffer, header.Kind.ToString());
        Add(buffer, header.Interface.Address);
        Add(buffer, header.Interface.ListenPort?.ToString(CultureInfo.InvariantCulture));
        Add(buffer, header.Interface.Mtu?.ToString(CultureInfo.InvariantCulture));
        foreach (var dns in header.Interface.Dns) Add(buffer, dns);
        // Added only when set, so fingerprints (and so config versions) of networks without rotation stay as they were.
        if (header.KeyRotationDays is { } days) Add(buffer, "|rotate:" + days.ToString(CultureInfo.InvariantCulture));
        Add(buffer, "|entries");
        BinaryPrimitives.WriteUInt128LittleEndian(buffer.GetSpan(16), entries);
        buffer.Advance(16);
        Add(buffer, host.MasqueradeSources is null ? "|no-forwarding" : "|forwarding");
        foreach (var source in host.MasqueradeSources ?? []) Add(buffer, source);
        Add(buffer, host.Filter is null ? "|no-filter" : "|filter");
        if (host.Filter is { } filter)
        {
            AddRules(buffer, "|input", filter.Input);
            AddRules(buffer, filter.Forward is null ? "|no-forward" : "|forward", filter.Forward ?? []);
        }
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(buffer.WrittenSpan, hash);
        return Convert.ToHexStringLower(hash[..16]);
    }

    private static void AddRules(ArrayBufferWriter<byte> buffer, string chain, IReadOnlyList<Wirety.Events.Agent.AgentFilterRule> rules)
    {
        Add(buffer, chain);
        foreach (var rule in rules)
        {
            Add(buffer, "|" + rule.Action);
            foreach (var source in rule.Sources) Add(buffer, source);
            Add(buffer, "|to");
            foreach (var destination in rule.Destinations) Add(buffer, destination);
            Add(buffer, "|ports");
            foreach (var port in rule.Ports) Add(buffer, port);
        }
    }

    private static ArrayBufferWriter<byte> Buffer()
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        return buffer;
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
