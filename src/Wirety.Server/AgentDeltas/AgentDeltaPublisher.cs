using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json;
using Marten;
using Wirety.Events.Agent;
using Wirety.Projections.Configs;
using Wirety.Projections.Networks;
using Wirety.Server.Agents;
using Wirety.Server.Changes;
using Wirety.Server.Configs;

namespace Wirety.Server.AgentDeltas;

/// <summary>
/// Turns a network change into signed delta envelopes for the agents connected here with <c>?deltas=1</c>
/// (issue 15). For each such agent whose config the change altered (stamped with the change's version), its config
/// is built from the network state just before the change and just after it and diffed by peer id
/// (<see cref="AgentConfigDiff"/>); what the diff cannot express, or a change whose before-state this instance did
/// not see, goes as one <c>config-replaced</c>.
/// <para>
/// The before-state is the <see cref="ConfigSource"/> this instance computed for the previous change of the network,
/// valid only when nothing but events that leave the network's state alone (an enrollment token issued) came between
/// that change's end and this one's start (<see cref="NetworkChanged.Since"/>); the
/// after-state is that one moved on by this commit's own events (read from the store: O(the commit)), so it is exact
/// however far the store has moved on meanwhile. Without a valid before-state (the first change handled after a
/// start or after agents first connected here, a notice this instance missed) the stored state is read
/// (<see cref="ConfigCache"/>) and the affected agents get <c>config-replaced</c>. Changes are handled in commit
/// order (a sequential local queue) and one network at a time here.
/// </para>
/// Cost: each affected agent costs two config builds, O(N) each, and a diff of its entries.
/// </summary>
public sealed class AgentDeltaPublisher(AgentSockets sockets, ConfigCache configs, AgentSigningKey signingKey, IServiceProvider services)
{
    /// <summary>More steps than this for one agent and change: one <c>config-replaced</c> instead (the socket's queue holds 32).</summary>
    public const int MaxSteps = 16;

    private readonly ConcurrentDictionary<Guid, Line> _networks = new();

    /// <summary>What this instance last saw of a network: its config source, exact at stream version <see cref="Through"/>.</summary>
    private sealed class Line
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);
        public ConfigSource? Source { get; set; }
        public long Through { get; set; }
        /// <summary>The peers whose stamp in <see cref="Source"/> is exact (only delta peers' stamps are kept current).</summary>
        public IReadOnlySet<Guid> Exact { get; set; } = new HashSet<Guid>();
    }

    public async Task PublishAsync(NetworkChanged change, CancellationToken ct)
    {
        var peers = sockets.DeltaPeers(change.NetworkId);
        if (change.NetworkDeleted || peers.Count == 0)
        {
            _networks.TryRemove(change.NetworkId, out _); // nobody here to keep the line for
            return;
        }
        var line = _networks.GetOrAdd(change.NetworkId, _ => new Line());
        await line.Gate.WaitAsync(ct);
        try
        {
            await signingKey.EnsureLoadedAsync(ct);
            // Commits between (line.Through, Since] carried no network-state event, or there would have been a notice for
            // them before this one (AdvanceAsync checks).
            var before = line.Source is { } seen && change is { Since: { } since, Through: not null } && line.Through <= since ? seen : null;
            // On the line: the state after exactly this commit, from its own events (however far the store has moved on).
            var advanced = before is null ? null : await AdvanceAsync(before, line.Through, line.Exact, change, peers, ct);
            ConfigSource? after = advanced?.After;
            IReadOnlySet<Guid> exact = advanced?.Exact ?? new HashSet<Guid>();
            var standalone = before is not null && advanced?.Touched is { Count: > 0 and <= MaxSteps } touched
                && touched.All(id => ConfigBuilder.ChangeStandsAlone(before.Network, advanced.Value.After.Network, id))
                    ? advanced.Value.Touched : null;
            if (after is null)
            {
                before = null;
                after = await configs.SourceAsync(change.NetworkId);
                if (after is null)
                {
                    line.Source = null;
                    return;
                }
                exact = after.Peers.Keys.ToHashSet(); // the stored stamps are all exact
            }
            var known = line.Exact;
            foreach (var peerId in peers.Where(p => after.Network.FindPeer(p) is not null && after.VersionOf(p) == change.Version))
                sockets.SendEnvelopes(peerId, Envelopes(peerId, known.Contains(peerId) ? before : null, after, standalone));

            if (after.Version == change.Version && change.Through is { } through)
            {
                line.Source = after;
                line.Through = through;
                line.Exact = exact;
            }
            else if (line.Source is null || line.Source.Version < after.Version)
                line.Source = null; // after is past this change: where its stream ends is unknown
        }
        finally { line.Gate.Release(); }
    }

    /// <summary>
    /// After a gap in the change feed nothing is known about what changed: every delta agent here gets its whole
    /// config (previous version 0: it applies it as a resync), and every network's line starts over.
    /// </summary>
    public async Task ResyncAsync(CancellationToken ct)
    {
        await signingKey.EnsureLoadedAsync(ct);
        foreach (var network in sockets.Connected().Select(a => a.NetworkId).Distinct())
        {
            if (sockets.DeltaPeers(network).Count == 0)
            {
                _networks.TryRemove(network, out _);
                continue;
            }
            var line = _networks.GetOrAdd(network, _ => new Line());
            await line.Gate.WaitAsync(ct);
            try
            {
                line.Source = null;
                if (await configs.SourceAsync(network) is not { } source) continue;
                foreach (var peerId in sockets.DeltaPeers(network).Where(p => source.Network.FindPeer(p) is not null))
                    sockets.SendEnvelopes(peerId, Envelopes(peerId, null, source, null));
            }
            finally { line.Gate.Release(); }
        }
    }

    /// <summary>
    /// <paramref name="before"/> moved on by this commit's events, read from the store (O(the commit), not O(N)), with
    /// the stamps of <paramref name="peers"/> recomputed as the config projection does (a new fingerprint: this
    /// change's version). Stamps of other peers are left as they were: only peers with a delta socket here are
    /// looked up; a peer whose stamp went stale meanwhile is told of its next change with <c>config-replaced</c> (its
    /// previous version is not known here) and is exact from then on. Null when the events are not all there (the
    /// caller falls back to the stored state).
    /// </summary>
    private async Task<(ConfigSource After, IReadOnlySet<Guid> Exact, IReadOnlySet<Guid>? Touched)?> AdvanceAsync(ConfigSource before, long lineThrough, IReadOnlySet<Guid> exact,
        NetworkChanged change, IReadOnlyList<Guid> peers, CancellationToken ct)
    {
        var (since, through) = (change.Since!.Value, change.Through!.Value);
        await using var session = services.GetRequiredService<IDocumentStore>().QuerySession();
        // From where the line ends: the events before this commit (an enrollment token issued, say) must leave the
        // network's state as it was, else a change was missed here.
        var events = await session.Events.FetchStreamAsync(change.NetworkId, version: through, fromVersion: lineThrough + 1, token: ct);
        if (events.Count != through - lineThrough || events.Any(e => e.Version <= lineThrough || e.Version > through)
            || events.Any(e => e.Version <= since && NetworkEvolution.Handles(e.Data)))
            return null;
        var network = before.Network;
        HashSet<Guid>? touched = [];
        foreach (var e in events.Where(e => e.Version > since && NetworkEvolution.Handles(e.Data)))
        {
            network = NetworkEvolution.Evolve(network, e.Data);
            if (PeerConfigProjection.PeerIdOf(e.Data) is { } peerId) touched?.Add(peerId);
            else touched = null; // settings, groups, policies, routes: no shortcut
        }
        if (network is null) return null;

        var stamps = before.Peers.Where(s => network.FindPeer(s.Key) is not null).ToDictionary();
        var present = peers.Where(p => network.FindPeer(p) is not null).ToList();
        // A peer whose stamp here is stale (it had no delta socket here for a while) changed with this commit when its
        // fingerprint did; its stamp is exact from then on.
        var stale = present.Where(p => !exact.Contains(p)).ToList();
        var staleBefore = ConfigBuilder.Fingerprints(before.Network, stale.Where(p => before.Network.FindPeer(p) is not null).ToList()).ToDictionary();
        var nowExact = new HashSet<Guid>();
        foreach (var (peerId, fingerprint) in ConfigBuilder.Fingerprints(network, present))
        {
            var changed = exact.Contains(peerId)
                ? !stamps.TryGetValue(peerId, out var stamp) || stamp.Fingerprint != fingerprint
                : !staleBefore.TryGetValue(peerId, out var was) || was != fingerprint;
            if (changed) stamps[peerId] = new PeerConfigStamp(change.Version, fingerprint);
            if (changed || exact.Contains(peerId)) nowExact.Add(peerId);
        }
        return (new ConfigSource(change.NetworkId, change.Version, network, stamps), nowExact, touched);
    }

    /// <summary>
    /// The peer's envelopes for the step from <paramref name="before"/> (null: unknown) to <paramref name="after"/>, in order.
    /// <paramref name="standalone"/>: the peers the change touched, when each change stands alone
    /// (<see cref="ConfigBuilder.ChangeStandsAlone"/>); then a member viewer not among them differs only in those
    /// peers' entries, and its steps come from those entries alone — O(touched), not two builds of N entries.
    /// </summary>
    private List<byte[]> Envelopes(Guid peerId, ConfigSource? before, ConfigSource after, IReadOnlySet<Guid>? standalone)
    {
        var version = after.VersionOf(peerId);
        long previous = 0;
        IReadOnlyList<AgentDelta>? steps = null;
        AgentConfig? afterConfig = null;
        if (before?.Network.FindPeer(peerId) is { } viewerBefore)
        {
            previous = before.VersionOf(peerId);
            var viewer = after.Network.FindPeer(peerId)!;
            if (standalone is not null && !standalone.Contains(peerId) && viewer.Kind != Wirety.Events.Peers.PeerKind.Jump)
            {
                // Both sides share the viewer's header (unchanged by such a change) and differ only in the touched entries.
                var header = AgentConfigMapper.From(ConfigBuilder.Build(after.Network with { Peers = [viewer] }, peerId), version,
                    HostRules.For(after.Network, peerId));
                steps = AgentConfigDiff.Between(header with { Peers = Entries(before.Network, viewerBefore, standalone) },
                    header with { Peers = Entries(after.Network, viewer, standalone) }, MaxSteps);
                if (steps is { Count: 0 }) steps = [AgentConfigDiff.Interface(header.Interface)];
            }
            else
            {
                afterConfig = ConfigOf(after, peerId);
                steps = AgentConfigDiff.Between(ConfigOf(before, peerId), afterConfig, MaxSteps);
                // Nothing the agent applies changed (a peer's name, say): an idempotent step still moves its version on.
                if (steps is { Count: 0 }) steps = [AgentConfigDiff.Interface(afterConfig.Interface)];
            }
        }
        steps ??= [AgentDelta.Replaced(afterConfig ?? ConfigOf(after, peerId))];

        // Intermediate steps keep the previous version; the last one moves the agent to the new one.
        var envelopes = new List<byte[]>(steps.Count);
        for (var i = 0; i < steps.Count; i++)
        {
            var networkVersion = i == steps.Count - 1 ? version : previous;
            envelopes.Add(Envelope(peerId, steps[i], networkVersion, previous));
        }
        return envelopes;
    }

    /// <summary>The touched peers' entries in the viewer's config (<see cref="ConfigBuilder.StandaloneEntry"/>).</summary>
    private static List<AgentPeer> Entries(Network network, PeerState viewer, IReadOnlySet<Guid> touched) =>
        touched.Select(id => network.FindPeer(id) is { } peer ? ConfigBuilder.StandaloneEntry(viewer, peer) : null)
            .OfType<PeerEntry>().Select(AgentConfigMapper.Entry).ToList();

    private static AgentConfig ConfigOf(ConfigSource source, Guid peerId) =>
        AgentConfigMapper.From(ConfigBuilder.Build(source.Network, peerId), source.VersionOf(peerId), HostRules.For(source.Network, peerId));

    /// <summary>An <see cref="AgentEnvelope"/>'s JSON, with the payload written exactly as signed.</summary>
    private byte[] Envelope(Guid peerId, AgentDelta step, long networkVersion, long previousVersion)
    {
        var signature = signingKey.Sign(peerId, step.Type, networkVersion, previousVersion, step.PayloadJson);
        var buffer = new ArrayBufferWriter<byte>(step.PayloadJson.Length + 256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", step.Type);
            writer.WriteNumber("networkVersion", networkVersion);
            writer.WriteNumber("previousVersion", previousVersion);
            writer.WritePropertyName("payload");
            writer.WriteRawValue(step.PayloadJson, skipInputValidation: true);
            writer.WriteString("signature", signature);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
