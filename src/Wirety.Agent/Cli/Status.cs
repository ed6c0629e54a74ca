using System.Globalization;
using Wirety.Agent.State;
using Wirety.Agent.WireGuard;

namespace Wirety.Agent.Cli;

/// <summary>
/// <c>wirety-agent status</c>: public identity facts (never the private key or session token), the
/// last config and heartbeat from state.json, and the live interface from <c>wg show dump</c>.
/// </summary>
public static class Status
{
    public static async Task<int> RunAsync(StatusCommand command, IWireGuard wg, TextWriter output, TimeProvider clock, CancellationToken ct)
    {
        var store = new StateStore(command.StateDirectory);
        var identity = store.PeekIdentity();
        var now = clock.GetUtcNow();
        if (identity is null)
        {
            await output.WriteLineAsync($"not enrolled ({store.IdentityPath} missing or unreadable)").ConfigureAwait(false);
            return 1;
        }
        var state = store.LoadState();
        var saved = store.LoadConfig();

        var lines = new List<(string, string)>
        {
            ("peer", identity.PeerId.ToString()),
            ("network", identity.NetworkId.ToString()),
            ("public key", identity.PublicKey),
            ("server", identity.Server),
            ("enrolled", Ago(identity.EnrolledAt, now)),
            ("deltas", identity.SigningKeyPinned ? "on (server signing key pinned)" : "off (no signing key pinned at enrollment; full fetches)"),
            ("config", state.LastConfigVersion is { } v
                ? $"version {v}, applied {Ago(state.LastConfigAppliedAt, now)}"
                : saved is not null ? $"version {saved.Config.Version} saved, not applied yet" : "none yet"),
            ("heartbeat", state.LastHeartbeatAt is { } hb ? $"last acknowledged {Ago(hb, now)}" : "none acknowledged yet"),
            ("server contact", Ago(state.LastServerContactAt, now)),
        };
        if (state.LastError is { } error) lines.Add(("last problem", error));

        WgDevice? device = null;
        string interfaceLine;
        try
        {
            device = await wg.ShowAsync(command.Interface, ct).ConfigureAwait(false);
            interfaceLine = device is null
                ? $"{command.Interface}: not present"
                : $"{command.Interface}: listening on port {device.ListenPort}, " +
                  (device.PublicKey == identity.PublicKey ? "key matches identity" : "KEY DOES NOT MATCH identity") +
                  $", {device.Peers.Count} peer(s)";
        }
        catch (Exception e) when (e is WireGuardCommandException or FormatException)
        {
            interfaceLine = $"{command.Interface}: cannot read ({e.Message})";
        }
        lines.Add(("interface", interfaceLine));

        var width = lines.Max(l => l.Item1.Length) + 2;
        foreach (var (name, value) in lines)
            await output.WriteLineAsync((name + ":").PadRight(width) + value).ConfigureAwait(false);

        if (device is not null)
        {
            foreach (var peer in device.Peers)
            {
                await output.WriteLineAsync($"  peer {peer.PublicKey}").ConfigureAwait(false);
                await output.WriteLineAsync($"    endpoint   {peer.Endpoint ?? "(none)"}").ConfigureAwait(false);
                await output.WriteLineAsync($"    allowed    {(peer.AllowedIps.Count == 0 ? "(none)" : string.Join(", ", peer.AllowedIps.Select(p => p.ToString())))}").ConfigureAwait(false);
                await output.WriteLineAsync($"    handshake  {(peer.LatestHandshake is { } h ? Ago(h, now) : "never")}").ConfigureAwait(false);
                await output.WriteLineAsync($"    transfer   {Bytes(peer.RxBytes)} received, {Bytes(peer.TxBytes)} sent").ConfigureAwait(false);
                if (peer.PersistentKeepalive > 0)
                    await output.WriteLineAsync($"    keepalive  every {peer.PersistentKeepalive} s").ConfigureAwait(false);
            }
        }
        return 0;
    }

    internal static string Ago(DateTimeOffset? when, DateTimeOffset now)
    {
        if (when is not { } w) return "never";
        var age = now - w;
        var text = age.TotalSeconds < 0 ? "in the future"
            : age.TotalSeconds < 120 ? $"{age.TotalSeconds:0} s ago"
            : age.TotalMinutes < 120 ? $"{age.TotalMinutes:0} min ago"
            : age.TotalHours < 48 ? $"{age.TotalHours:0} h ago"
            : $"{age.TotalDays:0} days ago";
        return $"{w.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)}Z ({text})";
    }

    internal static string Bytes(long n) => n switch
    {
        < 1024 => $"{n} B",
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{n / 1024.0:0.0} KiB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{n / (1024.0 * 1024):0.0} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{n / (1024.0 * 1024 * 1024):0.00} GiB"),
    };
}
