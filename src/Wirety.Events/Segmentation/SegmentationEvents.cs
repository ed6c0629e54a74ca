namespace Wirety.Events.Segmentation;

// Groups, policies, routes and the default policy of a network. They live in the network's stream
// (stream id = NetworkId): the network is the consistency boundary for names and for the references
// between peers, groups, policies and routes.

/// <summary>Whether traffic no policy mentions is allowed (today's flat mesh) or dropped.</summary>
public enum DefaultPolicy
{
    Allow,
    Deny,
}

/// <summary>The peers a policy side covers: the members of these groups plus these peers.</summary>
public sealed record PolicyTargets(IReadOnlyList<Guid> Groups, IReadOnlyList<Guid> Peers)
{
    public static readonly PolicyTargets None = new([], []);
}

public sealed record GroupCreated(Guid NetworkId, Guid GroupId, string Name, string? Description, Actor Actor, DateTimeOffset At);

/// <summary>The group's name and description as they are after the change.</summary>
public sealed record GroupUpdated(Guid NetworkId, Guid GroupId, string Name, string? Description, Actor Actor, DateTimeOffset At);

/// <summary>The group is gone; policies and routes that named it no longer do.</summary>
public sealed record GroupDeleted(Guid NetworkId, Guid GroupId, Actor Actor, DateTimeOffset At);

/// <summary>The group's members, as they are after the change (the whole set, sorted).</summary>
public sealed record GroupMembersSet(Guid NetworkId, Guid GroupId, IReadOnlyList<Guid> PeerIds, Actor Actor, DateTimeOffset At);

/// <summary>
/// An allow rule: peers in <paramref name="Sources"/> may open connections to peers in
/// <paramref name="Destinations"/> on <paramref name="Ports"/> (canonical <see cref="PortRange"/> texts;
/// empty = every protocol and port). Replies to an allowed connection are always allowed.
/// </summary>
public sealed record PolicyCreated(
    Guid NetworkId, Guid PolicyId, string Name, string? Description, PolicyTargets Sources, PolicyTargets Destinations,
    IReadOnlyList<string> Ports, Actor Actor, DateTimeOffset At);

/// <summary>The policy as it is after the change.</summary>
public sealed record PolicyUpdated(
    Guid NetworkId, Guid PolicyId, string Name, string? Description, PolicyTargets Sources, PolicyTargets Destinations,
    IReadOnlyList<string> Ports, Actor Actor, DateTimeOffset At);

public sealed record PolicyDeleted(Guid NetworkId, Guid PolicyId, Actor Actor, DateTimeOffset At);

public sealed record DefaultPolicyChanged(Guid NetworkId, DefaultPolicy DefaultPolicy, Actor Actor, DateTimeOffset At);

/// <summary>
/// A subnet (or, for <c>0.0.0.0/0</c>, the internet: an exit node) reachable through peer
/// <paramref name="ViaPeerId"/>, offered to the members of <paramref name="Groups"/> (every peer when empty)
/// that policy lets reach the via peer.
/// </summary>
public sealed record RouteAdded(Guid NetworkId, Guid RouteId, string Cidr, Guid ViaPeerId, IReadOnlyList<Guid> Groups, Actor Actor, DateTimeOffset At);

public sealed record RouteRemoved(Guid NetworkId, Guid RouteId, Actor Actor, DateTimeOffset At);
