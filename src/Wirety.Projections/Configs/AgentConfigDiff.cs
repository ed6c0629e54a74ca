using System.Text.Json;
using Wirety.Events.Agent;

namespace Wirety.Projections.Configs;

/// <summary>One step of a delta: its type (<see cref="AgentDeltaTypes"/>) and its payload's JSON, exactly as sent and signed.</summary>
public sealed record AgentDelta(string Type, string PayloadJson)
{
    public static AgentDelta Replaced(AgentConfig config) =>
        new(AgentDeltaTypes.ConfigReplaced, JsonSerializer.Serialize(config, AgentProtocolJson.Default.AgentConfig));
}

/// <summary>
/// The steps that turn one agent config into another (issue 15's delta protocol), entries matched by peer id. Pure:
/// the server sends the result to the config's agent, and a unit test checks that applying it to the old config
/// gives the new one. Order: removals first, then key rotations, updates, additions, and the interface last, so a
/// prefix that moves between entries is never on two of them at the end of a step WireGuard would reject.
/// </summary>
public static class AgentConfigDiff
{
    /// <returns>
    /// The steps (empty when the two configs differ in nothing but their version), or null when only the whole config
    /// will do: its kind, forwarding or packet filter changed, an entry has no id, or it would take more than
    /// <paramref name="maxSteps"/> steps.
    /// </returns>
    public static IReadOnlyList<AgentDelta>? Between(AgentConfig before, AgentConfig after, int maxSteps)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        if (before.Kind != after.Kind
            || Json(before.Forwarding) != Json(after.Forwarding)
            || Json(before.Filter) != Json(after.Filter)
            || before.Peers.Concat(after.Peers).Any(p => p.Id is null))
            return null;
        var old = before.Peers.GroupBy(p => p.Id!.Value).ToDictionary(g => g.Key, g => g.Last());
        var @new = after.Peers.GroupBy(p => p.Id!.Value).ToDictionary(g => g.Key, g => g.Last());
        if (old.Count != before.Peers.Count || @new.Count != after.Peers.Count) return null; // one entry per peer, always

        var steps = new List<AgentDelta>();
        foreach (var (id, was) in old)
            if (!@new.ContainsKey(id)) steps.Add(Change(AgentDeltaTypes.PeerRemoved, new AgentPeerChange(id, null, was.PublicKey)));
        foreach (var (id, now) in @new)
            if (old.TryGetValue(id, out var was) && was.PublicKey != now.PublicKey)
                steps.Add(Change(AgentDeltaTypes.PeerKeyRotated, new AgentPeerChange(id, now, was.PublicKey)));
        foreach (var (id, now) in @new)
            if (old.TryGetValue(id, out var was) && was.PublicKey == now.PublicKey && !Same(was, now))
                steps.Add(Change(AgentDeltaTypes.PeerUpdated, new AgentPeerChange(id, now)));
        foreach (var (id, now) in @new)
            if (!old.ContainsKey(id)) steps.Add(Change(AgentDeltaTypes.PeerAdded, new AgentPeerChange(id, now)));
        if (!Same(before.Interface, after.Interface))
            steps.Add(Interface(after.Interface));
        return steps.Count > maxSteps ? null : steps;
    }

    /// <summary>An <c>interface-changed</c> step.</summary>
    public static AgentDelta Interface(AgentInterface @interface) =>
        new(AgentDeltaTypes.InterfaceChanged, JsonSerializer.Serialize(@interface, AgentProtocolJson.Default.AgentInterface));

    private static AgentDelta Change(string type, AgentPeerChange change) =>
        new(type, JsonSerializer.Serialize(change, AgentProtocolJson.Default.AgentPeerChange));

    // Field by field (the records hold lists, which record equality compares by reference): a diff compares every
    // entry of a config, so this is the inner loop.
    private static bool Same(AgentPeer a, AgentPeer b) =>
        a.PublicKey == b.PublicKey && a.Endpoint == b.Endpoint && a.PersistentKeepalive == b.PersistentKeepalive && a.Id == b.Id
        && a.AllowedIps.SequenceEqual(b.AllowedIps);

    private static bool Same(AgentInterface a, AgentInterface b) =>
        a.Address == b.Address && a.ListenPort == b.ListenPort && a.Mtu == b.Mtu && a.Dns.SequenceEqual(b.Dns);

    private static string Json(AgentForwarding? value) => JsonSerializer.Serialize(value, AgentProtocolJson.Default.AgentForwarding);
    private static string Json(AgentFilter? value) => JsonSerializer.Serialize(value, AgentProtocolJson.Default.AgentFilter);
}
