using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Wirety.Events;
using Wirety.Projections.History;

namespace Wirety.Server.EventQueries;

/// <summary>Who did it, as the history API shows it. <c>kind</c>: <c>token</c> (an API token), <c>agent</c> (an agent session) or <c>system</c> (the server: bootstrap, detection).</summary>
public sealed record ActorView(string Kind, Guid Id, string Name)
{
    public static ActorView Of(Actor actor) => new(
        actor.TokenId == Guid.Empty ? "system" : actor.Name.StartsWith("agent:", StringComparison.Ordinal) ? "agent" : "token",
        actor.TokenId, actor.Name);

    /// <summary>From an event's serialized data (<c>actor: {tokenId, name}</c>); null for events without an actor (heartbeats, detections).</summary>
    public static ActorView? From(JsonNode? data) =>
        data?["actor"] is JsonObject a && a["tokenId"]?.GetValue<string>() is { } id && Guid.TryParse(id, out var tokenId)
            ? Of(new Actor(tokenId, a["name"]?.GetValue<string>() ?? ""))
            : null;
}

/// <summary>One event of the global stream: <c>sequence</c> is its global position (the keyset), <c>timestamp</c> the time the server decided it (the event's own <c>at</c>).</summary>
public sealed record EventItem(long Sequence, Guid StreamId, string Type, DateTimeOffset Timestamp, ActorView? Actor, JsonNode? Data)
{
    /// <summary>Same shape and casing as the HTTP API's JSON everywhere (camelCase, enums as camelCase strings).</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
    };

    /// <summary>
    /// Builds the item from a stored row (<paramref name="json"/> is the event's jsonb). Known types go through
    /// their record, so the data has exactly the API's shape (enums as in every other response); an unknown
    /// type is shown as stored. Hash fields are removed either way.
    /// </summary>
    public static EventItem FromRow(long sequence, Guid streamId, Type? clrType, string typeName, DateTimeOffset storedAt, string json)
    {
        var data = clrType is null
            ? JsonNode.Parse(json)
            : JsonSerializer.SerializeToNode(JsonSerializer.Deserialize(json, clrType, Json), clrType, Json);
        return From(sequence, streamId, typeName, storedAt, data);
    }

    /// <summary>From an event object (Marten's <c>IEvent.Data</c>).</summary>
    public static EventItem FromEvent(long sequence, Guid streamId, object @event, DateTimeOffset storedAt) =>
        From(sequence, streamId, @event.GetType().Name, storedAt, JsonSerializer.SerializeToNode(@event, @event.GetType(), Json));

    private static EventItem From(long sequence, Guid streamId, string typeName, DateTimeOffset storedAt, JsonNode? data)
    {
        EventCatalog.Redact(data);
        var at = data?["at"] is JsonValue v && v.TryGetValue<string>(out var s) && DateTimeOffset.TryParse(s, out var parsed) ? parsed : storedAt;
        return new EventItem(sequence, streamId, typeName, at, ActorView.From(data), data);
    }
}
