using Wirety.Agent.WireGuard;
using Wirety.Events.Agent;

namespace Wirety.Agent.Running;

/// <summary>Builds the heartbeat body from what WireGuard reports. Pure; nothing secret goes in.</summary>
public static class Heartbeats
{
    public static HeartbeatRequest Build(string? hostname, WgDevice? device, TimeSpan uptime, IReadOnlyList<string>? endpoints) =>
        new(
            Hostname: hostname,
            ListenPort: device is { ListenPort: > 0 } ? device.ListenPort : null,
            Endpoints: endpoints is { Count: > 0 } ? endpoints : null,
            UptimeSeconds: (long)Math.Max(0, uptime.TotalSeconds),
            PeerStats: device?.Peers.Select(p => new PeerStat(p.PublicKey, p.LatestHandshake, p.RxBytes, p.TxBytes)).ToList());
}
