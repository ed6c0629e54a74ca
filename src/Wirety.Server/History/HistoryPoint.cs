using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Wirety.Projections.History;
using Wirety.Server.EventQueries;
using Wirety.Server.Problems;

namespace Wirety.Server.History;

/// <summary>
/// A point in history, as <c>at</c>/<c>from</c>/<c>to</c> give it: a global event sequence number (all
/// digits) — the state after that event — or an ISO-8601 time — the state after the last event the
/// server decided at or before that time. Absent: now.
/// </summary>
public sealed record HistoryPoint(long? Sequence, DateTimeOffset? Time)
{
    public static readonly HistoryPoint Now = new(null, null);

    /// <returns>False, with the reason added to <paramref name="errors"/>, when the text is not a point.</returns>
    public static bool TryParse(string? text, string parameter, ValidationErrors errors, [NotNullWhen(true)] out HistoryPoint? point,
        bool required = false)
    {
        point = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            if (!required) point = Now;
            else errors.Add(parameter, $"{parameter} is required: an event sequence number or an ISO-8601 time.");
        }
        else if (text.All(char.IsAsciiDigit))
        {
            if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seq)) point = new HistoryPoint(seq, null);
            else errors.Add(parameter, $"{parameter} is too large for an event sequence number.");
        }
        else if (IsoTime.TryParse(text, out var time)) point = new HistoryPoint(null, time);
        else errors.Add(parameter, $"{parameter} must be an event sequence number (digits only) or an ISO-8601 time such as 2026-05-01T14:02:00Z.");
        return point is not null;
    }

    /// <summary>The global sequence this point stands for, within the given history.</summary>
    public long Resolve(IEnumerable<RecordedEvent> history) =>
        Sequence ?? (Time is { } t ? NetworkReplay.SequenceAt(history, t) : long.MaxValue);

    public override string ToString() => Sequence?.ToString(CultureInfo.InvariantCulture) ?? Time?.ToString("O") ?? "now";
}
