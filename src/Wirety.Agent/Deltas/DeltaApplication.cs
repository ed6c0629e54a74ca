using System.Globalization;
using System.Text.Json;
using Wirety.Events.Agent;

namespace Wirety.Agent.Deltas;

public enum DeltaOutcome
{
    /// <summary>The envelope follows the current config: <see cref="DeltaResult.Config"/> is the config after it.</summary>
    Applied,
    /// <summary>The envelope is older than the current config (left over from before a fetch): ignore it.</summary>
    Stale,
    /// <summary>It does not follow the current config, or cannot be applied to it: fetch the whole config instead.</summary>
    Resync,
}

/// <param name="FullPass">The change reaches beyond one peer entry or the interface section (a whole config
/// replaced): the packet filter and forwarding are refreshed too, not just the touched peer.</param>
/// <param name="Detail">What was done, or why not, for the log (no key material beyond public keys).</param>
public sealed record DeltaResult(DeltaOutcome Outcome, AgentConfig? Config, bool FullPass, string Detail);

/// <summary>
/// Applies one verified delta envelope to the agent's current config, as a pure function. The chain rule: an
/// envelope is applied iff the current config version equals its <c>previousVersion</c>, and the result then has
/// version <c>networkVersion</c>; a <c>config-replaced</c> (the whole config) is also applied whenever it is newer
/// than the current config. Peer entries are addressed by peer id (<see cref="AgentPeer.Id"/>; the peer index,
/// as in the plexd seed, maps a peer id to the entry and so to the public key WireGuard knows it by).
/// </summary>
public static class DeltaApplication
{
    public static DeltaResult Apply(AgentConfig current, AgentEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(envelope);
        if (!long.TryParse(current.Version, NumberStyles.None, CultureInfo.InvariantCulture, out var version))
            return Resync($"the current config version '{current.Version}' is not a network version");
        // A whole config needs no predecessor: a newer one replaces whatever is held. The server sends one with
        // previousVersion 0 when it does not know the agent's version (its first change after a restart, a feed gap).
        var replacesNewer = envelope.Type == AgentDeltaTypes.ConfigReplaced && envelope.NetworkVersion > version;
        if (version != envelope.PreviousVersion && !replacesNewer)
        {
            // Left over from before a full fetch that already went past it.
            if (envelope.PreviousVersion < version && envelope.NetworkVersion <= version)
                return new DeltaResult(DeltaOutcome.Stale, null, false,
                    $"{envelope.Type} {envelope.PreviousVersion} → {envelope.NetworkVersion} is older than config version {version}");
            return Resync($"gap: config version {version}, but {envelope.Type} follows version {envelope.PreviousVersion}");
        }
        if (envelope.NetworkVersion < envelope.PreviousVersion && !replacesNewer)
            return Resync($"{envelope.Type} goes back from version {envelope.PreviousVersion} to {envelope.NetworkVersion}");

        var next = envelope.NetworkVersion.ToString(CultureInfo.InvariantCulture);
        try
        {
            switch (envelope.Type)
            {
                case AgentDeltaTypes.PeerAdded:
                case AgentDeltaTypes.PeerUpdated:
                case AgentDeltaTypes.PeerKeyRotated:
                    return Upsert(current, envelope.Type, Change(envelope), next);
                case AgentDeltaTypes.PeerRemoved:
                    return Remove(current, Change(envelope), next);
                case AgentDeltaTypes.InterfaceChanged:
                    var section = envelope.Payload.Deserialize(AgentProtocolJson.Default.AgentInterface);
                    if (section is null || string.IsNullOrEmpty(section.Address)) return Resync("interface-changed without an interface address");
                    return Applied(current with { Version = next, Interface = section with { Dns = section.Dns ?? [] } }, false,
                        $"interface section changed (address {section.Address})");
                case AgentDeltaTypes.ConfigReplaced:
                    var config = envelope.Payload.Deserialize(AgentProtocolJson.Default.AgentConfig);
                    if (config?.Interface is null || config.Peers is null) return Resync("config-replaced without a whole config");
                    // The signed envelope's version is the authority; the payload's own field is not signed separately.
                    return Applied(config with { Version = next }, true, $"whole config replaced ({config.Peers.Count} peer entries)");
                default:
                    return Resync($"unknown delta type '{envelope.Type}'");
            }
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            return Resync($"unreadable {envelope.Type} payload: {e.Message}");
        }
    }

    private static AgentPeerChange? Change(AgentEnvelope envelope) =>
        envelope.Payload.Deserialize(AgentProtocolJson.Default.AgentPeerChange);

    private static DeltaResult Upsert(AgentConfig current, string type, AgentPeerChange? change, string next)
    {
        if (change?.Peer is not { } entry || string.IsNullOrEmpty(entry.PublicKey) || change.PeerId == Guid.Empty)
            return Resync($"{type} without a peer entry");
        if (entry.Id is { } id && id != change.PeerId) return Resync($"{type}: the entry's id {id} is not the change's {change.PeerId}");
        entry = entry with { Id = change.PeerId, AllowedIps = entry.AllowedIps ?? [] };

        var at = IndexOf(current.Peers, change.PeerId);
        if (type != AgentDeltaTypes.PeerAdded && at < 0)
            return Resync($"{type} for peer {change.PeerId}, which this config does not have");
        if (type == AgentDeltaTypes.PeerUpdated && at >= 0 && current.Peers[at].PublicKey != entry.PublicKey)
            return Resync($"peer-updated for peer {change.PeerId} changes its key (that is peer-key-rotated)");
        // One entry per public key: another peer holding this key means the config is not what the server thinks.
        var clash = current.Peers.Select((p, i) => (p, i)).FirstOrDefault(x => x.i != at && x.p.PublicKey == entry.PublicKey);
        if (clash.p is not null) return Resync($"{type}: public key {entry.PublicKey} already belongs to another entry");

        var peers = current.Peers.ToList();
        if (at >= 0) peers[at] = entry;
        else peers.Add(entry);
        var what = type switch
        {
            AgentDeltaTypes.PeerAdded => at >= 0 ? $"peer {change.PeerId} ({entry.PublicKey}) added again (replaced)" : $"peer {change.PeerId} ({entry.PublicKey}) added",
            AgentDeltaTypes.PeerKeyRotated => $"peer {change.PeerId} rotated its key {current.Peers[at].PublicKey} → {entry.PublicKey}",
            _ => $"peer {change.PeerId} ({entry.PublicKey}) updated",
        };
        return Applied(current with { Peers = peers }, false, what, next);
    }

    private static DeltaResult Remove(AgentConfig current, AgentPeerChange? change, string next)
    {
        if (change is null || change.PeerId == Guid.Empty) return Resync("peer-removed without a peer id");
        var at = IndexOf(current.Peers, change.PeerId);
        if (at < 0)
            // Already gone: the result is what the server meant.
            return Applied(current with { Version = next }, false, $"peer {change.PeerId} removed (was not in the config)");
        var peers = current.Peers.ToList();
        var removed = peers[at];
        peers.RemoveAt(at);
        return Applied(current with { Peers = peers }, false, $"peer {change.PeerId} ({removed.PublicKey}) removed", next);
    }

    /// <summary>The entry for <paramref name="peerId"/>; entries without an id (configs from older servers) never match.</summary>
    private static int IndexOf(IReadOnlyList<AgentPeer> peers, Guid peerId)
    {
        for (var i = 0; i < peers.Count; i++)
            if (peers[i].Id == peerId) return i;
        return -1;
    }

    private static DeltaResult Applied(AgentConfig config, bool fullPass, string detail, string? next = null) =>
        new(DeltaOutcome.Applied, next is null ? config : config with { Version = next }, fullPass, detail);

    private static DeltaResult Resync(string why) => new(DeltaOutcome.Resync, null, false, why);
}
