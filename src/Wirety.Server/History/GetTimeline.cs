using Marten;
using Wirety.Events.Tokens;
using Wirety.Projections.History;
using Wirety.Server.Auth;
using Wirety.Server.EventQueries;
using Wirety.Server.Networks;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.History;

public sealed record TimelineItem(long Sequence, DateTimeOffset Timestamp, string Type, ActorView? Actor, string Summary, TimelineSubject Subject);

public sealed record TimelinePage(IReadOnlyList<TimelineItem> Items, long? Next);

/// <summary>
/// <c>GET /api/v1/networks/{id}/timeline?after=&amp;limit=</c>: who did what, when, to what — one sentence
/// per event of the network (its stream, its incidents, refused enrollments; not heartbeats), ascending by
/// sequence, keyset-paginated like the event stream. Each page replays the network's history (names as they
/// were then), so it is bounded like <c>/state?at=</c> (<see cref="NetworkHistory.LoadBoundedAsync"/>) and a page
/// holds at most <see cref="MaxLimit"/> entries.
/// </summary>
public static class GetTimeline
{
    public const int DefaultLimit = 50, MaxLimit = 500;

    [RequiresRole(ApiTokenRole.Analyst)]
    [WolverineGet("/api/v1/networks/{networkId}/timeline")]
    public static async Task<IResult> Get(Guid networkId, HttpContext http, IQuerySession session, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var query = http.Request.Query;
        long after = 0;
        if (query["after"] is { Count: > 0 } a && !long.TryParse(a[0], System.Globalization.NumberStyles.None, null, out after))
            errors.Add("after", "after must be an event sequence number (a non-negative integer), e.g. the `next` of the previous page.");
        var limit = DefaultLimit;
        if (query["limit"] is { Count: > 0 } l && (!int.TryParse(l[0], System.Globalization.NumberStyles.None, null, out limit) || limit < 1 || limit > MaxLimit))
            errors.Add("limit", $"limit must be between 1 and {MaxLimit}.");
        if (errors.Any) return errors.ToProblem().ToResult();

        var load = await NetworkHistory.LoadBoundedAsync(http, session, networkId, withRejections: true, ct);
        if (load.Refused is { } refused) return refused;
        var history = load.History!;
        if (!history.Exists) return NetworkLookup.Missing(networkId).ToResult();

        var entries = Timeline.Build(history.All)
            .Where(e => e.Sequence > after).OrderBy(e => e.Sequence).Take(limit + 1).ToList();
        var page = entries.Take(limit)
            .Select(e => new TimelineItem(e.Sequence, e.Timestamp, e.Type, e.Actor is null ? null : ActorView.Of(e.Actor), e.Summary, e.Subject))
            .ToList();
        return Results.Ok(new TimelinePage(page, entries.Count > limit ? page[^1].Sequence : null));
    }
}
