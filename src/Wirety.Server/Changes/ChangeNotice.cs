using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using JasperFx.Events;
using Wirety.Events.Networks;
using Wirety.Events.Peers;
using Wirety.Events.Tokens;
using Wirety.Projections.Networks;
using Wirety.Server.LiveChannel;

namespace Wirety.Server.Changes;

/// <summary>
/// One committed change as every server instance hears it: a network stream that changed
/// (<see cref="Network"/>), an API token that was revoked (<see cref="RevokedToken"/>), or the admin
/// live-channel notices of a commit (<see cref="Live"/>, for the admins connected to other instances). Sent as the
/// JSON payload of <c>NOTIFY wirety_changes</c> inside the committing transaction, behind its MAC (<see cref="NoticeSigner"/>), e.g.
/// <c>{"origin":"…","network":{"networkId":"…","version":7,"removedPeers":[],"enrollments":[],"networkDeleted":false,"full":false}}</c>
/// or <c>{"origin":"…","revokedToken":"…"}</c> or <c>{"origin":"…","commit":"…","part":0,"live":[{"type":"peer-changed",…}]}</c>.
/// Ids only: never a secret or a hash.
/// <see cref="Origin"/> is the committing instance (<see cref="ChangeFeed.InstanceId"/>).
/// </summary>
public sealed record ChangeNotice(Guid Origin, NetworkChanged? Network = null, Guid? RevokedToken = null,
    IReadOnlyList<LiveNotice>? Live = null, Guid? Commit = null, int? Part = null)
{
    /// <summary>PostgreSQL refuses a NOTIFY payload of 8000 bytes or more (default build).</summary>
    public const int MaxPayloadBytes = 7999;

    /// <summary>Live notices per NOTIFY: ~150 bytes each, so a chunk stays far below <see cref="MaxPayloadBytes"/>.</summary>
    public const int LiveChunk = 24;

    /// <summary>Identifies the change across instances: a network stream version is committed once, a token revoked once.</summary>
    public string Key => Network is { } n ? $"network:{n.NetworkId}:{n.Version}"
        : Live is not null ? $"live:{Commit}:{Part}"
        : $"token:{RevokedToken}";

    /// <summary>The notices for the events of one commit: one per touched network stream, one per revoked token.</summary>
    public static IReadOnlyList<ChangeNotice> Of(Guid origin, IEnumerable<IEvent> events)
    {
        var list = events.ToList();
        var notices = new List<ChangeNotice>();
        foreach (var stream in list.Where(e => NetworkEvolution.Handles(e.Data)).GroupBy(e => e.StreamId))
        {
            var data = stream.Select(e => e.Data).ToList();
            var all = list.Where(e => e.StreamId == stream.Key).Select(e => e.Version).ToList();
            notices.Add(new ChangeNotice(origin, new NetworkChanged(stream.Key, stream.Max(e => e.Version),
                data.OfType<PeerRemoved>().Select(r => r.PeerId).ToList(),
                data.OfType<PeerEnrolled>().Select(e => new PeerSession(e.PeerId, e.SessionId)).ToList(),
                data.OfType<NetworkDeleted>().Any(), Since: all.Min() - 1, Through: all.Max())));
        }
        notices.AddRange(list.Select(e => e.Data).OfType<ApiTokenRevoked>().Select(r => r.TokenId).Distinct()
            .Select(id => new ChangeNotice(origin, RevokedToken: id)));
        return notices;
    }

    /// <summary>
    /// The admin live-channel notices of one commit, in their order, in chunks that each fit a NOTIFY
    /// (NOTIFYs of one transaction arrive in the order sent). None for commits without admin-visible
    /// events (heartbeat batches).
    /// </summary>
    public static IReadOnlyList<ChangeNotice> LiveOf(Guid origin, IEnumerable<IEvent> events)
    {
        var live = LiveNotices.FromCommit(events);
        if (live.Count == 0) return [];
        var commit = Guid.NewGuid();
        // Part keeps the payloads distinct: PostgreSQL delivers identical payloads of one transaction once.
        return live.Chunk(LiveChunk).Select((chunk, part) => new ChangeNotice(origin, Live: chunk, Commit: commit, Part: part)).ToList();
    }

    /// <summary>The JSON's share of a payload: the rest is <see cref="NoticeSigner"/>'s MAC.</summary>
    public const int MaxJsonBytes = MaxPayloadBytes - NoticeSigner.Overhead;

    /// <summary>
    /// The notice's JSON, which <see cref="NoticeSigner.Sign"/> turns into the NOTIFY payload. A network change
    /// whose lists do not fit is sent reduced to "full": the receiver then forgets everything it holds for the
    /// network and re-checks all its sockets.
    /// </summary>
    public string ToPayload()
    {
        var payload = JsonSerializer.Serialize(this, ChangeNoticeJson.Default.ChangeNotice);
        if (Encoding.UTF8.GetByteCount(payload) <= MaxJsonBytes || Network is null) return payload;
        return JsonSerializer.Serialize(this with { Network = Network.Reduced() }, ChangeNoticeJson.Default.ChangeNotice);
    }

    /// <returns>The notice, or null when the (verified) JSON is not one (logged by the caller).</returns>
    public static ChangeNotice? Parse(string payload)
    {
        try
        {
            var notice = JsonSerializer.Deserialize(payload, ChangeNoticeJson.Default.ChangeNotice);
            return notice is not null && (notice.Network is not null || notice.RevokedToken is not null || notice.Live is not null) ? notice : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>Generated serializer: no reflection warm-up on the first notice an instance hears.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ChangeNotice))]
internal sealed partial class ChangeNoticeJson : JsonSerializerContext;
