using System.Text.Json;
using Marten;
using Npgsql;
using Wirety.Projections;
using Wirety.Server.EventQueries;
using Wirety.Events.Peers;
using Wirety.Projections.History;
using Wirety.Projections.Incidents;

namespace Wirety.Server.History;

/// <summary>Everything recorded about one network that replay needs, loaded from the event store.</summary>
public sealed record NetworkHistory(IReadOnlyList<RecordedEvent> Network, IReadOnlyList<RecordedEvent> Incidents, IReadOnlyList<RecordedEvent> Rejections)
{
    public bool Exists => Network.Count > 0;

    public IEnumerable<RecordedEvent> All => Network.Concat(Incidents).Concat(Rejections);

    public NetworkAt AsOf(long sequence) => NetworkReplay.AsOf(Network, Incidents, sequence);

    /// <summary>
    /// The network's own stream, and each of its incident streams (incidents never move between networks,
    /// so the current incident documents name all of them). Cost: one read per stream; the network stream
    /// holds admin events and endpoint changes, never heartbeats.
    /// </summary>
    public static async Task<NetworkHistory> LoadAsync(IQuerySession session, Guid networkId, bool withRejections, CancellationToken ct)
    {
        var network = (await session.Events.FetchStreamAsync(networkId, token: ct)).Select(Recorded).ToList();
        var incidents = new List<RecordedEvent>();
        if (network.Count > 0)
            foreach (var id in await session.Query<Incident>().Where(i => i.NetworkId == networkId).Select(i => i.Id).ToListAsync(ct))
                incidents.AddRange((await session.Events.FetchStreamAsync(id, token: ct)).Select(Recorded));
        var rejections = withRejections && network.Count > 0 ? await RejectionsAsync(session, networkId, ct) : [];
        return new NetworkHistory(network, incidents, rejections);
    }

    /// <summary>Refused enrollments naming the network (each in its own stream), found through the network index on event data.</summary>
    private static async Task<List<RecordedEvent>> RejectionsAsync(IQuerySession session, Guid networkId, CancellationToken ct)
    {
        var alias = ((Marten.Events.EventGraph)session.DocumentStore.Options.Events).EventMappingFor(typeof(EnrollmentRejected)).EventTypeName;
        await using var conn = (NpgsqlConnection)session.DocumentStore.Storage.Database.CreateConnection();
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand($"""
            select seq_id, stream_id, version, timestamp, data::text from {WiretyStore.Schema}.mt_events
            where data->>'networkId' = @network and type = @type order by seq_id
            """, conn);
        cmd.Parameters.AddWithValue("network", networkId.ToString());
        cmd.Parameters.AddWithValue("type", alias);
        var found = new List<RecordedEvent>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            found.Add(new RecordedEvent(reader.GetInt64(0), reader.GetGuid(1), reader.GetInt64(2),
                JsonSerializer.Deserialize<EnrollmentRejected>(reader.GetString(4), EventItem.Json)!, reader.GetFieldValue<DateTimeOffset>(3)));
        return found;
    }

    private static RecordedEvent Recorded(JasperFx.Events.IEvent e) => new(e.Sequence, e.StreamId, e.Version, e.Data, e.Timestamp);
}
