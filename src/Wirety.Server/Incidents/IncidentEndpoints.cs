using System.Security.Claims;
using Marten;
using Wirety.Events;
using Wirety.Events.Incidents;
using Wirety.Events.Peers;
using Wirety.Projections.Incidents;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Incidents;

public sealed record ResolveIncidentRequest(string? Note, bool? Unblock);

public static class IncidentQueries
{
    public const int MaxResults = 500;

    /// <summary><c>?state=open|resolved&amp;networkId=&amp;peerId=</c>, newest first.</summary>
    [WolverineGet("/api/v1/incidents")]
    public static async Task<IResult> List(string? state, Guid? networkId, Guid? peerId, IQuerySession session, CancellationToken ct)
    {
        if (!TryParseState(state, out var wanted))
            return new ValidationErrors().Add("state", "state must be 'open' or 'resolved'.").ToRejection().ToResult();

        var query = session.Query<Incident>().AsQueryable();
        if (wanted is { } w) query = query.Where(i => i.State == w);
        if (networkId is { } n) query = query.Where(i => i.NetworkId == n);
        if (peerId is { } p) query = query.Where(i => i.PeerId == p);
        return Results.Ok(await query.OrderByDescending(i => i.DetectedAt).Take(MaxResults).ToListAsync(ct));
    }

    /// <summary>No filter (absent or empty), or one state by its name in the API.</summary>
    private static bool TryParseState(string? text, out IncidentState? state)
    {
        state = text switch
        {
            "open" => IncidentState.Open,
            "resolved" => IncidentState.Resolved,
            _ => null,
        };
        return state is not null || string.IsNullOrEmpty(text);
    }

    [WolverineGet("/api/v1/incidents/{incidentId}")]
    public static async Task<IResult> Get(Guid incidentId, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<Incident>(incidentId, ct) is { } incident
            ? Results.Ok(incident)
            : Rejection.NotFound($"There is no incident {incidentId}.").ToResult();
}

public static class ResolveIncident
{
    public const int MaxNoteLength = 2000;

    /// <summary>The events a resolution appends; none when the incident is already resolved (a repeat is a no-op).</summary>
    public static Decision<(IncidentResolved Resolved, PeerUnblocked? Unblocked)?> Decide(
        ResolveIncidentRequest request, Incident incident, Network? network, Actor actor, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(request.Note) || request.Note.Length > MaxNoteLength)
            return new ValidationErrors().Add("note", $"note is required (at most {MaxNoteLength} characters): say what was found and done.").ToRejection();
        if (incident.State == IncidentState.Resolved) return new Decision<(IncidentResolved, PeerUnblocked?)?>(null, null);

        var peer = network?.FindPeer(incident.PeerId);
        var unblock = request.Unblock == true && peer is { Blocked: true };
        var note = request.Note.Trim();
        return (new IncidentResolved(incident.Id, incident.NetworkId, incident.PeerId, note, unblock, actor, now),
            unblock ? new PeerUnblocked(incident.NetworkId, incident.PeerId, $"incident {incident.Id} resolved: {note}", actor, now) : null);
    }

    [WolverinePost("/api/v1/incidents/{incidentId}/resolve")]
    public static async Task<IResult> Post(
        Guid incidentId, ResolveIncidentRequest? request, IDocumentSession session, ClaimsPrincipal user, TimeProvider clock,
        CancellationToken ct)
    {
        if (request is null) return Rejection.MissingBody().ToResult();
        var incidentStream = await session.Events.FetchForExclusiveWriting<Incident>(incidentId, ct);
        if (incidentStream.Aggregate is not { } incident) return Rejection.NotFound($"There is no incident {incidentId}.").ToResult();
        var networkStream = await session.Events.FetchForExclusiveWriting<Network>(incident.NetworkId, ct);

        var decision = Decide(request, incident, networkStream.Aggregate, user.ToActor(), clock.GetUtcNow());
        if (decision.Rejected is { } rejected) return rejected.ToResult();
        if (decision.Value is not var (resolved, unblocked)) return Results.Ok(incident);

        incidentStream.AppendOne(resolved);
        if (unblocked is not null) networkStream.AppendOne(unblocked);
        await session.SaveChangesAsync(ct);
        return Results.Ok(await session.LoadAsync<Incident>(incidentId, ct));
    }
}
