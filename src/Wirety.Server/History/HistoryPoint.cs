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

    public static Decision<HistoryPoint> Parse(string? text, string parameter, bool required = false)
    {
        if (string.IsNullOrWhiteSpace(text))
            return required ? Invalid(parameter, $"{parameter} is required: an event sequence number or an ISO-8601 time.") : Now;
        if (text.All(char.IsAsciiDigit))
            return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seq)
                ? new HistoryPoint(seq, null)
                : Invalid(parameter, $"{parameter} is too large for an event sequence number.");
        return IsoTime.TryParse(text, out var time)
            ? new HistoryPoint(null, time)
            : Invalid(parameter, $"{parameter} must be an event sequence number (digits only) or an ISO-8601 time such as 2026-05-01T14:02:00Z.");
    }

    private static Rejection Invalid(string parameter, string message) => new ValidationErrors().Add(parameter, message).ToRejection();

    /// <summary>The global sequence this point stands for, within the given history.</summary>
    public long Resolve(IEnumerable<RecordedEvent> history) =>
        Sequence ?? (Time is { } t ? NetworkReplay.SequenceAt(history, t) : long.MaxValue);

    public override string ToString() => Sequence?.ToString(CultureInfo.InvariantCulture) ?? Time?.ToString("O") ?? "now";
}
