using System.Text.Json.Nodes;
using Wirety.Events.Incidents;
using Wirety.Events.Tokens;
using Wirety.Projections.History;

namespace Wirety.Tests.Unit.History;

public sealed class EventCatalogTests
{
    [Fact]
    public void the_catalog_lists_every_event_record_of_the_contract()
    {
        // Every event carries its time as At; of the records with an At, only evidence is a value inside an event.
        var events = typeof(ApiTokenIssued).Assembly.GetTypes()
            .Where(t => t.IsClass && t.IsPublic && t.Namespace != "Wirety.Events.Agent"
                        && t.GetProperty("At")?.PropertyType == typeof(DateTimeOffset) && t != typeof(IncidentEvidence))
            .OrderBy(t => t.Name).ToList();
        Assert.Equal(events, EventCatalog.Types.OrderBy(t => t.Name));
        Assert.Equal(typeof(ApiTokenRevoked), EventCatalog.Find("ApiTokenRevoked"));
        Assert.Null(EventCatalog.Find("apiTokenRevoked"));
    }

    [Fact]
    public void hash_fields_are_removed_at_any_depth_and_nothing_else_is()
    {
        var data = JsonNode.Parse("""
            {"peerId":"p","tokenHash":"ab","sessionTokenHash":"cd","inner":{"TokenHASH":"x","keep":1},"list":[{"someHash":"y","name":"n"}],"hashtag":"#1"}
            """);
        Assert.Equal("""{"peerId":"p","inner":{"keep":1},"list":[{"name":"n"}],"hashtag":"#1"}""", EventCatalog.Redact(data)!.ToJsonString());
    }
}
