using System.Globalization;
using Wirety.Events.Addressing;

namespace Wirety.Agent.WireGuard;

/// <summary>
/// Parses <c>wg show IF dump</c>. Its first line starts with the interface's private key: that field
/// is skipped, never stored, and never quoted in an error.
/// </summary>
public static class WgDump
{
    /// <exception cref="FormatException">Unexpected shape (the message names the line, not its content).</exception>
    public static WgDevice Parse(string dump)
    {
        ArgumentNullException.ThrowIfNull(dump);
        var lines = dump.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length == 0) throw new FormatException("wg show dump: empty output.");

        // private-key  public-key  listen-port  fwmark
        var head = lines[0].Split('\t');
        if (head.Length != 4) throw new FormatException($"wg show dump: interface line has {head.Length} fields, expected 4.");
        var publicKey = NoneToNull(head[1]);
        var listenPort = ParseInt(head[2], 1, "listen-port");
        var fwmark = head[3] == "off" ? 0u : ParseMark(head[3]);

        var peers = new List<WgPeer>(lines.Length - 1);
        for (var i = 1; i < lines.Length; i++)
        {
            // public-key  preshared-key  endpoint  allowed-ips  latest-handshake  rx  tx  persistent-keepalive
            var f = lines[i].Split('\t');
            if (f.Length != 8) throw new FormatException($"wg show dump: peer line {i + 1} has {f.Length} fields, expected 8.");
            var handshake = ParseLong(f[4], i + 1, "latest-handshake");
            peers.Add(new WgPeer(
                PublicKey: f[0],
                Endpoint: NoneToNull(f[2]),
                AllowedIps: ParseAllowedIps(f[3], i + 1),
                LatestHandshake: handshake == 0 ? null : DateTimeOffset.FromUnixTimeSeconds(handshake),
                RxBytes: ParseLong(f[5], i + 1, "transfer-rx"),
                TxBytes: ParseLong(f[6], i + 1, "transfer-tx"),
                PersistentKeepalive: f[7] == "off" ? 0 : ParseInt(f[7], i + 1, "persistent-keepalive")));
        }
        return new WgDevice(publicKey, listenPort, fwmark, peers);
    }

    private static List<IpPrefix> ParseAllowedIps(string field, int line)
    {
        var result = new List<IpPrefix>();
        if (field == "(none)" || field.Length == 0) return result;
        foreach (var part in field.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!IpPrefix.TryNormalize(part, out var prefix))
                throw new FormatException($"wg show dump: peer line {line} has an unreadable allowed IP '{part}'.");
            result.Add(prefix);
        }
        return result;
    }

    private static string? NoneToNull(string field) => field is "(none)" or "" ? null : field;

    private static int ParseInt(string field, int line, string name) =>
        int.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out var v)
            ? v : throw new FormatException($"wg show dump: line {line} has an unreadable {name}.");

    private static long ParseLong(string field, int line, string name) =>
        long.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out var v)
            ? v : throw new FormatException($"wg show dump: line {line} has an unreadable {name}.");

    private static uint ParseMark(string field)
    {
        var ok = field.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? uint.TryParse(field.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var v)
            : uint.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out v);
        return ok ? v : throw new FormatException("wg show dump: line 1 has an unreadable fwmark.");
    }
}
