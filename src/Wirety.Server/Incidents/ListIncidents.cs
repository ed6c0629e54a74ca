using System.Security.Claims;
using Marten;
using Wirety.Events.Tokens;
using Wirety.Projections.Incidents;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Incidents;

public static class ListIncidents
{
    public const int MaxResults = 500;

    /// <summary><c>?state=open|resolved&amp;networkId=&amp;peerId=</c>, newest first.</summary>
    [RequiresRole(ApiTokenRole.Viewer), Scoped(ScopeRule.FilteredByHandler)]
    [WolverineGet("/api/v1/incidents")]
    public static async Task<IResult> Get(string? state, Guid? networkId, Guid? peerId, ClaimsPrincipal user, IQuerySession session, CancellationToken ct)
    {
        if (!TryParseState(state, out var wanted))
            return new ValidationErrors().Add("state", "state must be 'open' or 'resolved'.").ToProblem().ToResult();

        var query = session.Query<Incident>().AsQueryable();
        if (wanted is { } w) query = query.Where(i => i.State == w);
        if (networkId is { } n) query = query.Where(i => i.NetworkId == n);
        if (peerId is { } p) query = query.Where(i => i.PeerId == p);
        if (NetworkScope.NetworksOf(user) is { } scope)
        {
            var ids = scope.ToArray();
            query = query.Where(i => i.NetworkId.IsOneOf(ids));
        }
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
}
