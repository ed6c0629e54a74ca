using Marten;
using Marten.Events;
using Wirety.Events.Tokens;
using Wirety.Projections.Users;
using Wirety.Server.Auth;
using Wirety.Server.History;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Users;

/// <summary>
/// <c>GET /api/v1/users[?at=]</c>: every user, oldest first. <c>at</c> (an event sequence number or an ISO-8601
/// time, as for <c>/state?at=</c>) answers who existed and who had which role then — "who was admin of corp on
/// March 3rd" — by folding the users' streams up to that point (the time compared is the one each event records).
/// </summary>
public static class ListUsers
{
    [RequiresRole(ApiTokenRole.Admin)]
    [WolverineGet("/api/v1/users")]
    public static async Task<IResult> Get(HttpContext http, IQuerySession session, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        if (!HistoryPoint.TryParse(http.Request.Query["at"].FirstOrDefault(), "at", errors, out var at)) return errors.ToProblem().ToResult();
        if (at == HistoryPoint.Now)
            return Results.Ok((await session.Query<User>().OrderBy(u => u.FirstSeenAt).ToListAsync(ct)).Select(UserView.Of).ToList());

        var events = await session.Events.QueryAllRawEvents()
            .Where(e => e.EventTypesAre(UserEvolution.EventTypes.ToArray()))
            .OrderBy(e => e.Sequence).ToListAsync(ct);
        return Results.Ok(AsOf(events.Select(e => (e.Sequence, e.StreamId, e.Data)), at).Select(UserView.Of).ToList());
    }

    /// <summary>The users as they were at <paramref name="at"/>: a sequence includes its event, a time every event decided at or before it.</summary>
    public static IReadOnlyList<User> AsOf(IEnumerable<(long Sequence, Guid StreamId, object Data)> events, HistoryPoint at)
    {
        var users = new Dictionary<Guid, User>();
        foreach (var (sequence, stream, data) in events.OrderBy(e => e.Sequence))
        {
            if (at.Sequence is { } s && sequence > s) break;
            if (at.Time is { } t && new Projections.History.RecordedEvent(sequence, stream, 0, data, default).At > t) continue;
            if (UserEvolution.Evolve(users.GetValueOrDefault(stream), data) is { } user) users[stream] = user;
        }
        return users.Values.OrderBy(u => u.FirstSeenAt).ThenBy(u => u.Id).ToList();
    }
}
