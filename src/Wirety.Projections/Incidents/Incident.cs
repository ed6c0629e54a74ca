using JasperFx.Events;
using Marten.Events.Aggregation;
using Wirety.Events;
using Wirety.Events.Incidents;

namespace Wirety.Projections.Incidents;

public enum IncidentState { Open, Resolved }

/// <summary>An incident as admins review it (one per incident stream).</summary>
public sealed record Incident
{
    public Guid Id { get; init; }
    public Guid NetworkId { get; init; }
    public Guid PeerId { get; init; }
    public IncidentType Type { get; init; }
    public IncidentState State { get; init; }
    public required string Summary { get; init; }
    public IReadOnlyList<IncidentEvidence> Evidence { get; init; } = [];
    public DateTimeOffset DetectedAt { get; init; }
    public DateTimeOffset? ResolvedAt { get; init; }
    public Actor? ResolvedBy { get; init; }
    public string? ResolutionNote { get; init; }
    public bool Unblocked { get; init; }
}

public partial class IncidentProjection : SingleStreamProjection<Incident, Guid>
{
    public IncidentProjection()
    {
        IncludeType<IncidentDetected>();
        IncludeType<IncidentResolved>();
    }

    public override Incident? Evolve(Incident? snapshot, Guid id, IEvent e) => IncidentEvolution.Evolve(snapshot, e.Data);
}

/// <summary>The one fold from incident-stream events to <see cref="Incident"/> (the projection and history replay share it).</summary>
public static class IncidentEvolution
{
    public static Incident? Evolve(Incident? snapshot, object @event) => (snapshot, @event) switch
    {
        (_, IncidentDetected d) => new Incident
        {
            Id = d.IncidentId, NetworkId = d.NetworkId, PeerId = d.PeerId, Type = d.Type, State = IncidentState.Open,
            Summary = d.Summary, Evidence = d.Evidence, DetectedAt = d.At,
        },
        (not null, IncidentResolved r) => snapshot with
        {
            State = IncidentState.Resolved, ResolvedAt = r.At, ResolvedBy = r.Actor, ResolutionNote = r.Note, Unblocked = r.Unblocked,
        },
        _ => snapshot,
    };
}
