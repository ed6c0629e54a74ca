using Marten;
using Wirety.Events;
using Wirety.Events.Incidents;
using Wirety.Events.Peers;
using Wirety.Projections.Incidents;
using Wirety.Projections.Networks;
using Wolverine.Attributes;

namespace Wirety.Server.Incidents;

/// <summary>
/// Reacts to heartbeat sightings: records a changed endpoint (which re-renders the configs that dial
/// the peer), keeps the peer's recent sightings, and on a finding opens an incident and blocks the
/// peer in the same transaction. A blocked peer is contained already, so detection pauses for it until
/// it is unblocked; an open incident of the same type is never opened twice.
/// </summary>
[WolverineHandler] // discovered by attribute: the name says what it does, not "Handler"
public static class DetectIncidents
{
    public static readonly Actor Detector = new(Guid.Empty, "wirety:detection");

    public sealed record Outcome(EndpointChanged? EndpointChanged, IncidentDetected? Incident, PeerBlocked? Block);

    /// <summary>What a sighting leads to, given the network as it is and the peer's sightings including this one.</summary>
    public static Outcome Decide(PeerSighted s, Network network, PeerSightings sightings, IReadOnlySet<IncidentType> openTypes, Guid incidentId)
    {
        if (network.FindPeer(s.PeerId) is not { } peer) return new Outcome(null, null, null);
        var endpoint = peer.SessionId == s.SessionId && s.Endpoint is not null && peer.ObservedEndpoint != s.Endpoint
            ? new EndpointChanged(network.Id, peer.Id, s.Endpoint, peer.ObservedEndpoint, s.SessionId, s.At)
            : null;
        if (peer.Blocked || IncidentRules.Evaluate(sightings.Entries, network.Security, s.At) is not { } finding
            || openTypes.Contains(finding.Type))
            return new Outcome(endpoint, null, null);

        var incident = new IncidentDetected(incidentId, network.Id, peer.Id, finding.Type, finding.Summary,
            finding.Evidence.Select(e => new IncidentEvidence(e.HeartbeatId, e.At, e.SessionId, e.SourceAddress, e.Endpoint)).ToList(),
            s.At);
        var block = new PeerBlocked(network.Id, peer.Id, $"incident {incidentId}: {finding.Summary}", Detector, s.At);
        // A blocked peer's endpoint no longer matters to anyone's config.
        return new Outcome(null, incident, block);
    }

    public static async Task Handle(PeerSighted sighted, IDocumentSession session, CancellationToken ct)
    {
        var sightings = (await session.LoadAsync<PeerSightings>(sighted.PeerId, ct) ?? new PeerSightings(sighted.PeerId, sighted.NetworkId, []))
            .Add(new Sighting(sighted.HeartbeatId, sighted.At, sighted.SessionId, sighted.SourceAddress, sighted.Endpoint,
                EndpointAddress(sighted.Endpoint)));
        session.Store(sightings); // optimistic concurrency: a racing instance makes this retry

        // Writes to the network stream are rare (a new endpoint, an incident): decide on a plain read
        // first, and take the stream's lock only when there is something to append.
        var current = await session.LoadAsync<Network>(sighted.NetworkId, ct);
        if (current is null) return;
        var open = await OpenIncidentTypesAsync(session, sighted.PeerId, ct);
        var outcome = Decide(sighted, current, sightings, open, Guid.CreateVersion7(sighted.At));
        if (outcome is { EndpointChanged: not null } or { Incident: not null })
        {
            var stream = await session.Events.FetchForExclusiveWriting<Network>(sighted.NetworkId, ct);
            if (stream.Aggregate is not { } locked) return;
            outcome = Decide(sighted, locked, sightings, await OpenIncidentTypesAsync(session, sighted.PeerId, ct), outcome.Incident?.IncidentId ?? Guid.CreateVersion7(sighted.At));
            if (outcome.EndpointChanged is { } changed) stream.AppendOne(changed);
            if (outcome is { Incident: { } incident, Block: { } block })
            {
                session.Events.StartStream<Incident>(incident.IncidentId, incident);
                stream.AppendOne(block);
            }
        }
        await session.SaveChangesAsync(ct);
    }

    private static async Task<IReadOnlySet<IncidentType>> OpenIncidentTypesAsync(IDocumentSession session, Guid peerId, CancellationToken ct) =>
        (await session.Query<Incident>().Where(i => i.PeerId == peerId && i.State == IncidentState.Open).Select(i => i.Type).ToListAsync(ct))
        .ToHashSet();

    /// <summary>The IP part of <c>host:port</c> / <c>[v6]:port</c>.</summary>
    public static string? EndpointAddress(string? endpoint)
    {
        if (endpoint is null) return null;
        var colon = endpoint.LastIndexOf(':');
        var host = colon > 0 ? endpoint[..colon] : endpoint;
        return host.Trim('[', ']');
    }
}
