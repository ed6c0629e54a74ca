using Marten;
using Marten.Events;
using Wirety.Projections.History;

namespace Wirety.Server.EventQueries;

/// <summary>
/// Marten stores an alias per event type (<c>peer_added</c>); the API speaks CLR record names
/// (<c>PeerAdded</c>). Built once from the store's own mapping, so it cannot drift from what Marten writes.
/// </summary>
public sealed class EventTypeNames
{
    private readonly Dictionary<string, Type> _byAlias = new(StringComparer.Ordinal);
    private readonly Dictionary<Type, string> _aliasByType = new();

    public EventTypeNames(IDocumentStore store)
    {
        var events = (EventGraph)store.Options.Events;
        foreach (var type in EventCatalog.Types)
        {
            var alias = events.EventMappingFor(type).EventTypeName;
            _byAlias[alias] = type;
            _aliasByType[type] = alias;
        }
    }

    public string AliasOf(Type type) => _aliasByType[type];

    public Type? TypeOf(string alias) => _byAlias.GetValueOrDefault(alias);

    /// <summary>The CLR name for a stored row; for a type this build does not know, the class name Marten recorded.</summary>
    public string NameOf(string alias, string? dotnetType) =>
        _byAlias.TryGetValue(alias, out var type) ? type.Name
        : dotnetType is { Length: > 0 } ? dotnetType.Split(',')[0].Split('.')[^1]
        : alias;
}
