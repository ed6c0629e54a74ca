using System.Globalization;
using System.Text.Json;
using Marten;
using Microsoft.Extensions.Options;
using Npgsql;
using Wirety.Projections;
using Wirety.Server.EventQueries;
using Wirety.Events.Peers;
using Wirety.Projections.History;
using Wirety.Projections.Incidents;
using Wirety.Server.Limits;
using Wirety.Server.ReadBounds;

namespace Wirety.Server.History;

/// <summary>A loaded history, or the problem that refused loading it (over a replay bound).</summary>
public sealed record ReplayLoad(NetworkHistory? History, IResult? Refused);

/// <summary>Everything recorded about one network that replay needs, loaded from the event store.</summary>
public sealed record NetworkHistory(IReadOnlyList<RecordedEvent> Network, IReadOnlyList<RecordedEvent> Incidents, IReadOnlyList<RecordedEvent> Rejections)
{
    public bool Exists => Network.Count > 0;

    public IEnumerable<RecordedEvent> All => Network.Concat(Incidents).Concat(Rejections);

    public NetworkAt AsOf(long sequence) => NetworkReplay.AsOf(Network, Incidents, sequence);

    /// <summary>
    /// <see cref="LoadAsync"/> under the replay bounds (<see cref="LimitsOptions"/>): at most
    /// <see cref="LimitsOptions.ReplaysPerToken"/> replays per API token at once (429 beyond; the slot is held
    /// until the response is done), and no replay of more than <see cref="LimitsOptions.ReplayEventLimit"/> events
    /// (422, counted before anything is loaded). Either refusal comes back as <see cref="ReplayLoad.Refused"/>.
    /// </summary>
    public static async Task<ReplayLoad> LoadBoundedAsync(HttpContext http, IQuerySession session, Guid networkId, bool withRejections, CancellationToken ct)
    {
        var slots = http.RequestServices.GetRequiredService<ReadSlots>();
        var limit = http.RequestServices.GetRequiredService<IOptions<LimitsOptions>>().Value.ReplayEventLimit;
        if (slots.TryTake(HeavyRead.Replay, http.User) is not { } slot) return new ReplayLoad(null, slots.Refusal(http, HeavyRead.Replay));
        http.Response.RegisterForDispose(slot);

        var count = await CountAsync(session, networkId, withRejections, ct);
        if (count > limit)
            return new ReplayLoad(null, Results.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "History too long to replay",
                detail: string.Create(CultureInfo.InvariantCulture,
                    $"Replaying network {networkId} would fold {count} events; this server replays at most {limit} per request (Wirety__Limits__ReplayEventLimit). Read the history with GET /api/v1/events?network={networkId} instead, in pages.")));
        return new ReplayLoad(await LoadAsync(session, networkId, withRejections, ct), null);
    }

    /// <summary>How many events a replay of the network would load: its stream, its incidents, and (for the timeline) refused enrollments.</summary>
    private static async Task<long> CountAsync(IQuerySession session, Guid networkId, bool withRejections, CancellationToken ct)
    {
        var incidents = await session.Query<Incident>().Where(i => i.NetworkId == networkId).Select(i => i.Id).ToListAsync(ct);
        var alias = ((Marten.Events.EventGraph)session.DocumentStore.Options.Events).EventMappingFor(typeof(EnrollmentRejected)).EventTypeName;
        await using var conn = (NpgsqlConnection)session.DocumentStore.Storage.Database.CreateConnection();
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand($"""
            select (select count(*) from {WiretyStore.Schema}.mt_events where stream_id = any(@streams))
                 + (case when @rejections then (select count(*) from {WiretyStore.Schema}.mt_events where data->>'networkId' = @network and type = @type) else 0 end)
            """, conn);
        cmd.Parameters.AddWithValue("streams", incidents.Prepend(networkId).ToArray());
        cmd.Parameters.AddWithValue("rejections", withRejections);
        cmd.Parameters.AddWithValue("network", networkId.ToString());
        cmd.Parameters.AddWithValue("type", alias);
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

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
