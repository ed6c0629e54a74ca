namespace Wirety.Events.Networks;

// One stream per network (stream id = NetworkId). Peer admin events live in the same stream:
// the network is the consistency boundary for names, addresses (IPAM) and the ACL.

public sealed record NetworkCreated(
    Guid NetworkId, string Name, string Cidr, string? Domain, IReadOnlyList<string> Dns, int? Mtu,
    Actor Actor, DateTimeOffset At);

public sealed record NetworkUpdated(
    Guid NetworkId, string Name, string? Domain, IReadOnlyList<string> Dns, int? Mtu,
    Actor Actor, DateTimeOffset At);

/// <summary>
/// An admin allowed (or stopped allowing) DNS names as peer endpoints in the network: agents' reported
/// endpoints and static peers' declared ones. Off by default: an endpoint is then an address literal, so
/// what other peers dial is what the server recorded, not whatever a name resolves to later.
/// </summary>
public sealed record DnsEndpointsAllowanceChanged(Guid NetworkId, bool Allowed, Actor Actor, DateTimeOffset At);

/// <summary>
/// An admin set (or, with null, turned off) how often agents in the network make a new key pair:
/// <paramref name="IntervalDays"/> 1..3650. Agents learn it from their config (<c>AgentConfig.KeyRotationDays</c>)
/// and rotate through <c>POST /api/v1/agent/rotate-key</c>.
/// </summary>
public sealed record KeyRotationIntervalChanged(Guid NetworkId, int? IntervalDays, Actor Actor, DateTimeOffset At);

/// <summary>The network is gone; with <paramref name="Forced"/> its remaining peers went with it.</summary>
public sealed record NetworkDeleted(Guid NetworkId, bool Forced, Actor Actor, DateTimeOffset At);
