using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Wirety.Server.ApiDescription;

/// <summary>
/// Makes each type's schema say what the server's JSON really holds:
/// <list type="bullet">
/// <item>Numbers are numbers. The web serializer defaults also <em>read</em> numbers from strings, so the generator
/// wrote <c>["integer", "string"]</c> with a digits pattern; the server never writes a number as a string.</item>
/// <item>Enums are strings (the API writes them as camelCase strings), so <c>type: string</c> goes with the <c>enum</c>.</item>
/// <item>Properties the server leaves out when null (<c>[JsonIgnore(Condition = WhenWritingNull)]</c>) are listed in
/// <see cref="OmittedWhenNull"/>, so that <see cref="WiretyDocumentTransformer"/> can mark every other property of a
/// response type required (the serializer always writes them) and then drops the list.</item>
/// </list>
/// </summary>
public sealed class WireSchemaTransformer : IOpenApiSchemaTransformer
{
    public const string OmittedWhenNull = "x-wirety-omitted-when-null";

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken ct)
    {
        if (schema.Type is { } type && (type & (JsonSchemaType.Integer | JsonSchemaType.Number)) != 0 && (type & JsonSchemaType.String) != 0)
        {
            schema.Type = type & ~JsonSchemaType.String;
            schema.Pattern = null;
        }
        if (schema.Enum is { Count: > 0 } values && values.All(v => v is null || v.GetValueKind() == System.Text.Json.JsonValueKind.String))
        {
            // An enum is one shared component whether a member is nullable or not; a nullable member says so itself
            // (oneOf [null, $ref]), so the component never takes null from whichever use came first.
            foreach (var none in values.Where(v => v is null).ToList()) values.Remove(none);
            schema.Type = ((schema.Type ?? 0) | JsonSchemaType.String) & ~JsonSchemaType.Null;
        }

        var omitted = context.JsonTypeInfo.Properties
            .Where(p => p.AttributeProvider?.GetCustomAttributes(typeof(JsonIgnoreAttribute), true).OfType<JsonIgnoreAttribute>()
                .Any(a => a.Condition is JsonIgnoreCondition.WhenWritingNull or JsonIgnoreCondition.WhenWritingDefault) == true)
            .Select(p => (JsonNode)JsonValue.Create(p.Name)).ToArray();
        if (omitted.Length > 0)
        {
            schema.Extensions ??= new Dictionary<string, IOpenApiExtension>();
            schema.Extensions[OmittedWhenNull] = new JsonNodeExtension(new JsonArray(omitted));
        }
        return Task.CompletedTask;
    }
}
