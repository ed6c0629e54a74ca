using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Microsoft.Extensions.Primitives;
using Wirety.Projections.History;
using Wirety.Server.Problems;

namespace Wirety.Server.EventQueries;

/// <summary>
/// The filters of <c>GET /api/v1/events</c>, parsed strictly: anything malformed is a 400 naming the
/// parameter, never a guess. Ranges are inclusive at both ends; times are compared with each event's own
/// <c>at</c> (the time the server decided it).
/// </summary>
public sealed record EventFilter(
    Guid? NetworkId, Guid? PeerId, IReadOnlyList<Type> Types, DateTimeOffset? From, DateTimeOffset? To, long After, int Limit,
    bool IncludeArchived)
{
    /// <summary>Set by the query itself (the end of a time range's sequence span), never by the caller.</summary>
    public long? SequenceCeiling { get; init; }

    /// <summary>
    /// The networks a caller limited to some may read (from its identity, never from the query): only events that
    /// name one of them; those of no network (tokens, users) are left out. Null: every event.
    /// </summary>
    public IReadOnlyCollection<Guid>? Scope { get; init; }

    public const int DefaultLimit = 100, MaxLimit = 1000;

    /// <returns>False, with every reason added to <paramref name="errors"/>, when any filter is malformed.</returns>
    public static bool TryParse(IQueryCollection query, ValidationErrors errors, [NotNullWhen(true)] out EventFilter? filter)
    {
        filter = null;
        var networkId = ParseGuid(query, "networkId", errors);
        var peerId = ParseGuid(query, "peerId", errors);
        var from = ParseTime(query, "from", errors);
        var to = ParseTime(query, "to", errors);
        if (from is { } f && to is { } t && f > t) errors.Add("from", "from must not be later than to.");

        var types = new List<Type>();
        foreach (var name in Values(query["type"]))
        {
            if (EventCatalog.Find(name) is { } type) { if (!types.Contains(type)) types.Add(type); }
            else errors.Add("type", $"'{name}' is not an event type. Known types: {string.Join(", ", EventCatalog.Types.Select(x => x.Name))}.");
        }

        long after = 0;
        if (Single(query, "after", errors) is { } a && (!long.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out after)))
            errors.Add("after", "after must be an event sequence number (a non-negative integer), e.g. the `next` of the previous page.");
        var limit = DefaultLimit;
        if (Single(query, "limit", errors) is { } l && (!int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > MaxLimit))
            errors.Add("limit", $"limit must be between 1 and {MaxLimit}.");
        var includeArchived = false;
        if (Single(query, "includeArchived", errors) is { } i && !bool.TryParse(i, out includeArchived))
            errors.Add("includeArchived", "includeArchived must be true or false.");

        if (errors.Any) return false;
        filter = new EventFilter(networkId, peerId, types, from, to, after, limit, includeArchived);
        return true;
    }

    /// <summary>Repeated and comma-separated values alike: <c>type=A&amp;type=B,C</c>.</summary>
    private static IEnumerable<string> Values(StringValues values) =>
        values.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));

    private static string? Single(IQueryCollection query, string name, ValidationErrors errors)
    {
        var values = query[name];
        if (values.Count > 1) { errors.Add(name, $"{name} may be given once."); return null; }
        return values.Count == 1 ? values[0] : null;
    }

    private static Guid? ParseGuid(IQueryCollection query, string name, ValidationErrors errors)
    {
        if (Single(query, name, errors) is not { } text) return null;
        if (Guid.TryParse(text, out var id)) return id;
        errors.Add(name, $"{name} must be a GUID, e.g. 0197a6f2-6c1e-7c3b-9d1e-2f7c0a1b2c3d.");
        return null;
    }

    private static DateTimeOffset? ParseTime(IQueryCollection query, string name, ValidationErrors errors)
    {
        if (Single(query, name, errors) is not { } text) return null;
        if (IsoTime.TryParse(text, out var time)) return time;
        errors.Add(name, $"{name} must be an ISO-8601 time with a date, e.g. 2026-05-01T14:02:00Z.");
        return null;
    }
}

/// <summary>ISO-8601 times as the API accepts them: a date and time, UTC unless an offset is given.</summary>
public static class IsoTime
{
    private static readonly string[] Formats =
    [
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mmK", "yyyy-MM-dd",
    ];

    public static bool TryParse(string text, out DateTimeOffset time) =>
        // A "+" in an unencoded query string arrives as a space; ISO-8601 never contains one.
        DateTimeOffset.TryParseExact(text.Trim().Replace(' ', '+'), Formats, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);
}
