namespace Wirety.Projections.History;

/// <summary>
/// Indexes on Marten's event table that serve the event-stream filters (built by the server at start,
/// see Wirety.Server/EventQueries/EventQuerySchema). Marten must be told to leave them alone: its schema
/// migration drops indexes on mt_events it does not know. Each ends in seq_id, so an equality-filtered
/// page in keyset order is one index range, and a time range yields its sequence span from the index alone.
/// </summary>
public static class EventQueryIndexes
{
    public static readonly IReadOnlyList<(string Name, string Definition)> All =
    [
        ("ix_events_network_seq", "((data->>'networkId'), seq_id)"),
        ("ix_events_peer_seq", "((data->>'peerId'), seq_id)"),
        ("ix_events_type_seq", "(type, seq_id)"),
        ("ix_events_time_seq", $"(({WiretyStore.Schema}.event_time(data)), seq_id)"),
    ];
}
