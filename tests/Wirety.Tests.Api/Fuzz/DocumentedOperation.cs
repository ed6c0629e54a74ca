using System.Text.Json;

namespace Wirety.Tests.Api.Fuzz;

/// <summary>One operation of the OpenAPI document, as much of it as the fuzzer needs: where it is, what it takes, what it answers.</summary>
public sealed record DocumentedOperation(
    string Method, string Path, IReadOnlyList<string> PathParameters, IReadOnlyList<(string Name, JsonElement Schema)> QueryParameters,
    JsonElement? BodySchema, string Role, JsonElement Responses)
{
    public string Key => $"{Method} {Path}";

    /// <summary>The documented response for a status (its exact code, else <c>4XX</c>-style ranges, else <c>default</c>), if any.</summary>
    public JsonElement? ResponseFor(int status) =>
        Responses.TryGetProperty(status.ToString(System.Globalization.CultureInfo.InvariantCulture), out var exact) ? exact
        : Responses.TryGetProperty($"{status / 100}XX", out var range) ? range
        : Responses.TryGetProperty("default", out var fallback) ? fallback
        : null;

    public static IReadOnlyList<DocumentedOperation> AllIn(JsonElement document) =>
        document.GetProperty("paths").EnumerateObject().SelectMany(path => path.Value.EnumerateObject()
            .Where(o => o.Name is "get" or "post" or "put" or "patch" or "delete")
            .Select(o => Of(document, o.Name.ToUpperInvariant(), path.Name, o.Value)))
            .OrderBy(o => o.Key, StringComparer.Ordinal).ToList();

    private static DocumentedOperation Of(JsonElement document, string method, string path, JsonElement operation)
    {
        var parameters = operation.TryGetProperty("parameters", out var p) ? p.EnumerateArray().ToList() : [];
        JsonElement? body = operation.TryGetProperty("requestBody", out var rb) && rb.GetProperty("content").TryGetProperty("application/json", out var json)
            ? Resolve(document, json.GetProperty("schema")) : null;
        return new DocumentedOperation(method, path,
            parameters.Where(x => x.GetProperty("in").GetString() == "path").Select(x => x.GetProperty("name").GetString()!).ToList(),
            parameters.Where(x => x.GetProperty("in").GetString() == "query")
                .Select(x => (x.GetProperty("name").GetString()!, x.TryGetProperty("schema", out var s) ? Resolve(document, s) : default)).ToList(),
            body, operation.GetProperty("x-wirety-role").GetString()!, operation.GetProperty("responses"));
    }

    /// <summary>Follows a <c>$ref</c> into the document's components (one level; nested ones are followed as they are met).</summary>
    public static JsonElement Resolve(JsonElement document, JsonElement schema) =>
        schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("$ref", out var r) && r.GetString() is { } reference
            ? Resolve(document, reference.Split('/').Skip(1).Aggregate(document, (node, part) => node.GetProperty(part)))
            : schema;
}
