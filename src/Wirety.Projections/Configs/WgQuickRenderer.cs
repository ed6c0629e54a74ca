using System.Text;
using Wirety.Events.Peers;
using static System.FormattableString;

namespace Wirety.Projections.Configs;

/// <summary>
/// Renders a <see cref="PeerConfigModel"/> as a wg-quick file. The text is a pure function of its
/// input (LF line endings, no timestamps or versions), so equal configs are byte-identical and can be
/// hashed into an ETag.
/// </summary>
public static class WgQuickRenderer
{
    /// <param name="privateKey">
    /// Only for a static peer's one-time download, right after the server generated its key pair.
    /// Otherwise null: the key line becomes a comment, since the server never holds a peer's key.
    /// </param>
    public static string Render(PeerConfigModel model, string? privateKey = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var text = new StringBuilder();

        Line(text, $"# Wirety config for peer {Safe(model.PeerName)} ({Kind(model.Kind)})");
        Line(text, $"# peer {model.PeerId} in network {model.NetworkId}");
        Line(text, "[Interface]");
        Line(text, privateKey is null
            ? "# PrivateKey = (kept on the peer; the server never has it)"
            : $"PrivateKey = {Safe(privateKey)}");
        Line(text, $"Address = {Safe(model.Interface.Address)}");
        if (model.Interface.ListenPort is { } port) Line(text, Invariant($"ListenPort = {port}"));
        if (model.Interface.Dns.Count > 0) Line(text, $"DNS = {List(model.Interface.Dns)}");
        if (model.Interface.Mtu is { } mtu) Line(text, Invariant($"MTU = {mtu}"));

        foreach (var peer in model.Peers)
        {
            Line(text, "");
            Line(text, $"# {Safe(peer.Name)} ({Kind(peer.Kind)})");
            Line(text, "[Peer]");
            Line(text, $"PublicKey = {Safe(peer.PublicKey)}");
            if (peer.Endpoint is not null) Line(text, $"Endpoint = {Safe(peer.Endpoint)}");
            // Only empty when every prefix was claimed by an earlier entry; omit rather than emit "AllowedIPs = ".
            if (peer.AllowedIps.Count > 0) Line(text, $"AllowedIPs = {List(peer.AllowedIps)}");
            if (peer.PersistentKeepalive is { } keepalive) Line(text, Invariant($"PersistentKeepalive = {keepalive}"));
        }

        return text.ToString();
    }

    // Explicit '\n' instead of AppendLine, which would write CRLF on Windows servers.
    private static void Line(StringBuilder text, string line) => text.Append(line).Append('\n');

    private static string List(IEnumerable<string> values) => string.Join(", ", values.Select(Safe));

    private static string Kind(PeerKind kind) => kind.ToString().ToLowerInvariant();

    /// <summary>
    /// Admin-supplied text (names above all) must never start a new line: wg-quick runs
    /// <c>PostUp</c> lines as root shell commands, so a name like "x\nPostUp = ..." would be code
    /// execution on the peer. Control characters become '?'.
    /// </summary>
    private static string Safe(string value) =>
        value.Any(char.IsControl) ? string.Concat(value.Select(c => char.IsControl(c) ? '?' : c)) : value;
}
