using System.Security.Claims;
using Marten;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events.Incidents;
using Wirety.Events.Peers;
using Wirety.Projections.Incidents;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace Wirety.Server.Incidents;

using Events = Wolverine.Marten.Events;
using Wirety.Events.Tokens;

public sealed record ResolveIncidentRequest(string? Note, bool? Unblock);

/// <summary>
/// An admin closes an incident with a note saying what was found and done, and may unblock the peer in
/// the same commit. Resolving a resolved incident is a no-op.
/// </summary>
public static class ResolveIncident
{
    public const int MaxNoteLength = 2000;

    /// <summary>
    /// The incident's network, locked like every write to it: whether the peer is blocked is read under the
    /// lock. Null when the incident is missing or its network was deleted.
    /// </summary>
    public static async Task<Network?> LoadAsync(Incident? incident, IDocumentSession session, CancellationToken ct) =>
        incident is null ? null : (await session.Events.FetchForExclusiveWriting<Network>(incident.NetworkId, ct)).Aggregate;

    public static ProblemDetails Validate(ResolveIncidentRequest? request, Incident? incident, Guid incidentId, ClaimsPrincipal user) =>
        incident is null || !user.MaySee(incident.NetworkId) ? GetIncident.Missing(incidentId) // outside the caller's networks: as missing
        : request is null ? ApiProblems.MissingBody()
        : string.IsNullOrWhiteSpace(request.Note) || request.Note.Length > MaxNoteLength
            ? new ValidationErrors().Add("note", $"note is required (at most {MaxNoteLength} characters): say what was found and done.").ToProblem()
        : ApiProblems.None;

    /// <returns>The incident as resolved, its <see cref="IncidentResolved"/>, and the peer's <see cref="PeerUnblocked"/> when asked for and it is blocked.</returns>
    [RequiresRole(ApiTokenRole.Admin), Scoped(ScopeRule.FilteredByHandler)]
    [WolverinePost("/api/v1/incidents/{incidentId}/resolve")]
    public static (IResult, Events, AppendEvents?) Post(
        ResolveIncidentRequest request, [WriteAggregate(Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] Incident incident,
        [NotBody] Network? network, ClaimsPrincipal user, TimeProvider clock)
    {
        if (incident.State == IncidentState.Resolved) return (Results.Ok(incident), [], null);

        var actor = user.ToActor();
        var now = clock.GetUtcNow();
        var note = request.Note!.Trim();
        var unblock = request.Unblock == true && network?.FindPeer(incident.PeerId) is { Blocked: true };
        var resolved = new IncidentResolved(incident.Id, incident.NetworkId, incident.PeerId, note, unblock, actor, now);
        var after = IncidentEvolution.Evolve(incident, resolved) ?? incident;
        return (Results.Ok(after), [resolved], unblock
            ? Storage.AppendEvents(incident.NetworkId, new PeerUnblocked(incident.NetworkId, incident.PeerId, $"incident {incident.Id} resolved: {note}", actor, now))
            : null);
    }
}
