using System.Text.Json;

namespace Wirety.Tests.Api.Fuzz;

/// <summary>The fuzzer's schema check catches what it must (no server needed): a check that passes everything would hide a wrong document.</summary>
[Trait("Category", "Fuzz")]
public sealed class SchemaValidatorTests
{
    private static readonly JsonElement Document = JsonDocument.Parse("""
        {
          "components": { "schemas": {
            "Ref": { "type": "object", "required": ["id", "name"], "additionalProperties": false,
                     "properties": { "id": { "type": "string", "format": "uuid" }, "name": { "type": "string" } } },
            "Kind": { "type": "string", "enum": ["jump", "dynamic"] },
            "View": { "type": "object", "required": ["count", "kind", "owner", "tags", "at"], "additionalProperties": false,
                      "properties": {
                        "count": { "type": "integer", "format": "int32" },
                        "kind": { "$ref": "#/components/schemas/Kind" },
                        "owner": { "oneOf": [ { "type": "null" }, { "$ref": "#/components/schemas/Ref" } ] },
                        "tags": { "type": "array", "items": { "type": "string" } },
                        "at": { "type": ["null", "string"], "format": "date-time" },
                        "window": { "type": "string", "pattern": "^\\d{2}:\\d{2}:\\d{2}$" } } }
          } }
        }
        """).RootElement;

    private static readonly JsonElement View = JsonDocument.Parse("""{ "$ref": "#/components/schemas/View" }""").RootElement;

    private static IReadOnlyList<string> Check(string json) => new SchemaValidator(Document).Check(JsonDocument.Parse(json).RootElement, View);

    private const string Valid = """
        { "count": 3, "kind": "jump", "owner": { "id": "0192f5a4-0000-7000-8000-000000000001", "name": "ops" }, "tags": ["a"], "at": "2026-12-02T10:00:00+00:00", "window": "00:05:00" }
        """;

    [Fact]
    public void a_body_that_matches_passes() => Assert.Empty(Check(Valid));

    [Fact]
    public void a_null_where_the_schema_allows_one_passes() =>
        Assert.Empty(Check("""{ "count": 0, "kind": "dynamic", "owner": null, "tags": [], "at": null }"""));

    [Theory]
    [InlineData("""{ "count": "3", "kind": "jump", "owner": null, "tags": [], "at": null }""", "$.count")]
    [InlineData("""{ "count": 1.5, "kind": "jump", "owner": null, "tags": [], "at": null }""", "$.count")]
    [InlineData("""{ "count": 3000000000, "kind": "jump", "owner": null, "tags": [], "at": null }""", "int32")]
    [InlineData("""{ "count": 3, "kind": "static", "owner": null, "tags": [], "at": null }""", "$.kind")]
    [InlineData("""{ "count": 3, "kind": "jump", "tags": [], "at": null }""", "'owner' is missing")]
    [InlineData("""{ "count": 3, "kind": "jump", "owner": null, "tags": [], "at": null, "extra": 1 }""", "'extra'")]
    [InlineData("""{ "count": 3, "kind": "jump", "owner": { "id": "not-a-guid", "name": "x" }, "tags": [], "at": null }""", "oneOf")]
    [InlineData("""{ "count": 3, "kind": "jump", "owner": null, "tags": [1], "at": null }""", "$.tags[0]")]
    [InlineData("""{ "count": 3, "kind": "jump", "owner": null, "tags": [], "at": "yesterday" }""", "$.at")]
    [InlineData("""{ "count": 3, "kind": "jump", "owner": null, "tags": [], "at": null, "window": "5 minutes" }""", "$.window")]
    [InlineData("""null""", "$")]
    public void a_body_that_does_not_match_is_reported_at_its_path(string json, string expected)
    {
        var errors = Check(json);
        Assert.NotEmpty(errors);
        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void a_schema_keyword_it_does_not_check_is_itself_a_failure()
    {
        var schema = JsonDocument.Parse("""{ "type": "string", "maxLength": 3 }""").RootElement;
        var errors = new SchemaValidator(Document).Check(JsonDocument.Parse("\"abcdef\"").RootElement, schema);
        Assert.Contains(errors, e => e.Contains("maxLength", StringComparison.Ordinal));
    }
}
