using System.Security.Claims;
using Marten;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events.Tokens;
using Wirety.Projections.Incidents;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Incidents;

public static class GetIncident
{
    public static ProblemDetails Missing(Guid incidentId) => ApiProblems.NotFound($"There is no incident {incidentId}.");

    /// <summary>An incident of a network outside the caller's is answered as one that does not exist.</summary>
    [RequiresRole(ApiTokenRole.Viewer), Scoped(ScopeRule.FilteredByHandler)]
    [WolverineGet("/api/v1/incidents/{incidentId}")]
    public static async Task<IResult> Get(Guid incidentId, ClaimsPrincipal user, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<Incident>(incidentId, ct) is { } incident && user.MaySee(incident.NetworkId)
            ? Results.Ok(incident)
            : Missing(incidentId).ToResult();
}
