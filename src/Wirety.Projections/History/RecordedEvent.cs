namespace Wirety.Projections.History;

/// <summary>An event as replay needs it: its global sequence, its stream and version, and the event itself.</summary>
public sealed record RecordedEvent(long Sequence, Guid StreamId, long Version, object Data, DateTimeOffset RecordedAt)
{
    /// <summary>The time the server decided the event (its own <c>At</c>); every Wirety event carries one.</summary>
    public DateTimeOffset At => Data.GetType().GetProperty("At")?.GetValue(Data) is DateTimeOffset at ? at : RecordedAt;
}
