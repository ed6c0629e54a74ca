using Marten;
using Microsoft.Extensions.Options;
using Wirety.Events;
using Wirety.Events.Addressing;
using Wirety.Events.Incidents;
using Wirety.Events.Peers;
using Wirety.Projections.Incidents;
using Wirety.Projections.Networks;
using Wirety.Server.Limits;
using Wolverine.Attributes;

namespace Wirety.Server.Incidents;

/// <summary>
/// Reacts to heartbeat sightings: records a changed endpoint (which re-renders the configs that dial
/// the peer), keeps the peer's recent sightings, and on a finding opens an incident and blocks the
/// peer in the same transaction. A blocked peer is contained already, so detection pauses for it until
/// it is unblocked; an open incident of the same type is never opened twice. Sightings up to the
/// peer's latest resolved incident are never evidence again: the admin has dealt with them.
/// </summary>
[WolverineHandler] // discovered by attribute: the name says what it does, not "Handler"
public static class DetectIncidents
{
    public static readonly Actor Detector = new(Guid.Empty, "wirety:detection");

    public sealed record Outcome(EndpointChanged? EndpointChanged, IncidentDetected? Incident, PeerBlocked? Block);

    /// <summary>What a sighting leads to, given the network as it is and the peer's sightings including this one.</summary>
    /// <param name="resolvedUpTo">When the peer's latest resolved incident was resolved: sightings up to then are not evidence.</param>
    /// <param name="endpointInterval">
    /// At most one endpoint change per peer per this interval goes into the network stream (each re-renders the configs
    /// that dial the peer): a change inside it is dropped, and the sighting filter's periodic refresh reports it again later.
    /// </param>
    public static Outcome Decide(
        PeerSighted s, Network network, PeerSightings sightings, IReadOnlySet<IncidentType> openTypes, DateTimeOffset? resolvedUpTo, Guid incidentId,
        TimeSpan endpointInterval = default)
    {
        if (network.FindPeer(s.PeerId) is not { } peer) return new Outcome(null, null, null);
        // Sightings can be handled out of order (concurrently, or retried): only the newest one says where the peer is.
        var newest = sightings.Entries.Count == 0 || sightings.Entries[^1].HeartbeatId == s.HeartbeatId;
        var endpoint = newest && peer.SessionId == s.SessionId && s.Endpoint is not null && peer.ObservedEndpoint != s.Endpoint
                       && (peer.ObservedEndpointAt is not { } last || s.At - last >= endpointInterval)
            ? new EndpointChanged(network.Id, peer.Id, s.Endpoint, peer.ObservedEndpoint, s.SessionId, s.At)
            : null;
        var evidence = resolvedUpTo is { } cut ? sightings.Entries.Where(e => e.At > cut).ToList() : sightings.Entries;
        if (peer.Blocked || IncidentRules.Evaluate(evidence, network.Security, s.At) is not { } finding
            || openTypes.Contains(finding.Type))
            return new Outcome(endpoint, null, null);

        var incident = new IncidentDetected(incidentId, network.Id, peer.Id, finding.Type, finding.Summary,
            finding.Evidence.Select(e => new IncidentEvidence(e.HeartbeatId, e.At, e.SessionId, e.SourceAddress, e.Endpoint)).ToList(),
            s.At);
        var block = new PeerBlocked(network.Id, peer.Id, $"incident {incidentId}: {finding.Summary}", Detector, s.At);
        // The endpoint is recorded even so: the sighting filter reports this place only once, so dropping
        // it here would leave the previous sighting's endpoint (the other copy's) in every config after an unblock.
        return new Outcome(endpoint, incident, block);
    }

    public static async Task Handle(PeerSighted sighted, IDocumentSession session, IOptions<LimitsOptions> limits, CancellationToken ct)
    {
        var interval = limits.Value.EndpointChangeInterval;
        var sightings = (await session.LoadAsync<PeerSightings>(sighted.PeerId, ct) ?? new PeerSightings(sighted.PeerId, sighted.NetworkId, []))
            .Add(new Sighting(sighted.HeartbeatId, sighted.At, sighted.SessionId, sighted.SourceAddress, sighted.Endpoint,
                WireGuardEndpoint.HostOf(sighted.Endpoint)));
        session.Store(sightings); // optimistic concurrency: a racing instance makes this retry

        // Writes to the network stream are rare (a new endpoint, an incident): decide on a plain read
        // first, and take the stream's lock only when there is something to append.
        var current = await session.LoadAsync<Network>(sighted.NetworkId, ct);
        if (current is null) return;
        var (open, resolvedUpTo) = await IncidentsOfAsync(session, sighted.PeerId, ct);
        var outcome = Decide(sighted, current, sightings, open, resolvedUpTo, Guid.CreateVersion7(sighted.At), interval);
        if (outcome is { EndpointChanged: not null } or { Incident: not null })
        {
            var stream = await session.Events.FetchForExclusiveWriting<Network>(sighted.NetworkId, ct);
            if (stream.Aggregate is not { } locked) return;
            (open, resolvedUpTo) = await IncidentsOfAsync(session, sighted.PeerId, ct);
            outcome = Decide(sighted, locked, sightings, open, resolvedUpTo, outcome.Incident?.IncidentId ?? Guid.CreateVersion7(sighted.At), interval);
            if (outcome.EndpointChanged is { } changed) stream.AppendOne(changed);
            if (outcome is { Incident: { } incident, Block: { } block })
            {
                session.Events.StartStream<Incident>(incident.IncidentId, incident);
                stream.AppendOne(block);
            }
        }
        await session.SaveChangesAsync(ct);
    }

    /// <summary>The types of the peer's open incidents, and when its latest resolved one was resolved.</summary>
    private static async Task<(IReadOnlySet<IncidentType> Open, DateTimeOffset? ResolvedUpTo)> IncidentsOfAsync(
        IDocumentSession session, Guid peerId, CancellationToken ct)
    {
        var incidents = await session.Query<Incident>().Where(i => i.PeerId == peerId).ToListAsync(ct);
        return (incidents.Where(i => i.State == IncidentState.Open).Select(i => i.Type).ToHashSet(),
            incidents.Where(i => i.State == IncidentState.Resolved).Max(i => i.ResolvedAt));
    }
}
