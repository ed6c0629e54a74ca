using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Wirety.Tests.Api.Fuzz;

/// <summary>
/// Checks a JSON value against a schema of the OpenAPI document, for the subset of JSON Schema (2020-12, as OpenAPI 3.1
/// uses it) that the document holds: <c>$ref</c> into <c>#/components/schemas</c>, <c>type</c> (one or a list, with
/// <c>null</c>), <c>enum</c>, <c>properties</c>, <c>required</c>, <c>additionalProperties</c> (false or a schema),
/// <c>items</c>, <c>oneOf</c>/<c>anyOf</c>/<c>allOf</c>, <c>pattern</c> and the formats <c>uuid</c>, <c>date-time</c>,
/// <c>int32</c>, <c>int64</c>. A keyword outside that subset is itself reported, so a schema the validator does not
/// understand cannot pass unchecked. Written here rather than taken from a package: the subset is small and the
/// document is the only input.
/// </summary>
public sealed class SchemaValidator(JsonElement document)
{
    private static readonly HashSet<string> Annotations = new(StringComparer.Ordinal)
        { "description", "title", "default", "example", "examples", "deprecated", "readOnly", "writeOnly", "$comment" };
    private static readonly HashSet<string> Checked = new(StringComparer.Ordinal)
        { "$ref", "type", "enum", "properties", "required", "additionalProperties", "items", "oneOf", "anyOf", "allOf", "pattern", "format" };

    /// <summary>The mismatches of <paramref name="value"/> against <paramref name="schema"/>, each with its JSON path; none when it matches.</summary>
    public IReadOnlyList<string> Check(JsonElement value, JsonElement schema)
    {
        var errors = new List<string>();
        Check(value, schema, "$", errors, depth: 0);
        return errors;
    }

    private void Check(JsonElement value, JsonElement schema, string path, List<string> errors, int depth)
    {
        if (depth > 64) { errors.Add($"{path}: schema nesting deeper than 64 (a $ref cycle?)"); return; }
        if (schema.ValueKind == JsonValueKind.True) return;
        if (schema.ValueKind == JsonValueKind.False) { errors.Add($"{path}: no value is allowed here"); return; }
        if (schema.ValueKind != JsonValueKind.Object) { errors.Add($"{path}: the schema is not an object ({schema.ValueKind})"); return; }

        foreach (var keyword in schema.EnumerateObject())
            if (!Checked.Contains(keyword.Name) && !Annotations.Contains(keyword.Name) && !keyword.Name.StartsWith("x-", StringComparison.Ordinal))
                errors.Add($"{path}: the schema uses '{keyword.Name}', which this validator does not check");

        if (schema.TryGetProperty("$ref", out var reference))
        {
            var target = Resolve(reference.GetString()!);
            if (target is null) errors.Add($"{path}: unresolvable $ref {reference.GetString()}");
            else Check(value, target.Value, path, errors, depth + 1);
        }

        if (schema.TryGetProperty("type", out var type))
        {
            var types = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToList() : [type.GetString()!];
            if (!types.Any(t => IsOfType(value, t)))
            {
                errors.Add($"{path}: {Describe(value)} is not of type {string.Join(" or ", types)}");
                return; // the keywords below would only repeat the mismatch
            }
        }

        if (schema.TryGetProperty("enum", out var values) && !values.EnumerateArray().Any(v => JsonElement.DeepEquals(v, value)))
            errors.Add($"{path}: {Describe(value)} is not one of {values.GetRawText()}");

        if (value.ValueKind == JsonValueKind.String)
        {
            var text = value.GetString()!;
            if (schema.TryGetProperty("pattern", out var pattern) && !Regex.IsMatch(text, pattern.GetString()!, RegexOptions.None, TimeSpan.FromSeconds(1)))
                errors.Add($"{path}: \"{Short(text)}\" does not match the pattern {pattern.GetString()}");
            if (schema.TryGetProperty("format", out var format) && !HasFormat(text, format.GetString()!))
                errors.Add($"{path}: \"{Short(text)}\" is not a {format.GetString()}");
        }
        if (value.ValueKind == JsonValueKind.Number && schema.TryGetProperty("format", out var numberFormat))
        {
            var ok = numberFormat.GetString() switch
            {
                "int32" => value.TryGetInt32(out _),
                "int64" => value.TryGetInt64(out _),
                _ => true,
            };
            if (!ok) errors.Add($"{path}: {value.GetRawText()} is not an {numberFormat.GetString()}");
        }

        if (value.ValueKind == JsonValueKind.Object)
        {
            var properties = schema.TryGetProperty("properties", out var p) ? p : default;
            if (schema.TryGetProperty("required", out var required))
                foreach (var name in required.EnumerateArray().Select(r => r.GetString()!))
                    if (!value.TryGetProperty(name, out _)) errors.Add($"{path}: the required member '{name}' is missing");
            var additional = schema.TryGetProperty("additionalProperties", out var a) ? a : default;
            foreach (var member in value.EnumerateObject())
            {
                if (properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(member.Name, out var memberSchema))
                    Check(member.Value, memberSchema, $"{path}.{member.Name}", errors, depth + 1);
                else if (additional.ValueKind == JsonValueKind.False)
                    errors.Add($"{path}: the member '{member.Name}' is not in the schema (additionalProperties: false)");
                else if (additional.ValueKind == JsonValueKind.Object)
                    Check(member.Value, additional, $"{path}.{member.Name}", errors, depth + 1);
            }
        }

        if (value.ValueKind == JsonValueKind.Array && schema.TryGetProperty("items", out var items))
        {
            var i = 0;
            foreach (var item in value.EnumerateArray()) Check(item, items, $"{path}[{i++}]", errors, depth + 1);
        }

        if (schema.TryGetProperty("allOf", out var allOf))
            foreach (var part in allOf.EnumerateArray()) Check(value, part, path, errors, depth + 1);
        if (schema.TryGetProperty("anyOf", out var anyOf) && !anyOf.EnumerateArray().Any(part => Check(value, part).Count == 0))
            errors.Add($"{path}: {Describe(value)} matches none of anyOf");
        if (schema.TryGetProperty("oneOf", out var oneOf))
        {
            var matches = oneOf.EnumerateArray().Select(part => Check(value, part)).ToList();
            var count = matches.Count(m => m.Count == 0);
            if (count != 1)
                errors.Add($"{path}: {Describe(value)} matches {count} of oneOf, not exactly one"
                           + (count == 0 ? " (" + string.Join("; ", matches.SelectMany(m => m).Take(4)) + ")" : ""));
        }
    }

    private JsonElement? Resolve(string reference)
    {
        if (!reference.StartsWith("#/", StringComparison.Ordinal)) return null;
        var node = document;
        foreach (var part in reference[2..].Split('/'))
            if (node.ValueKind != JsonValueKind.Object || !node.TryGetProperty(part.Replace("~1", "/").Replace("~0", "~"), out node)) return null;
        return node;
    }

    private static bool IsOfType(JsonElement value, string type) => type switch
    {
        "null" => value.ValueKind == JsonValueKind.Null,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "string" => value.ValueKind == JsonValueKind.String,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && decimal.TryParse(value.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d == decimal.Truncate(d),
        _ => false,
    };

    private static bool HasFormat(string text, string format) => format switch
    {
        "uuid" => Guid.TryParseExact(text, "D", out _),
        "date-time" => DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
                       && Regex.IsMatch(text, @"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"),
        _ => true, // formats the document does not use for strings (or only annotates) are not asserted
    };

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{Short(value.GetString()!)}\"",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        _ => value.GetRawText(),
    };

    private static string Short(string text) => text.Length > 80 ? text[..80] + "…" : text;
}
