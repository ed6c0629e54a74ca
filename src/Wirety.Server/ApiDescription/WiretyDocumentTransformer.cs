using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Wirety.Server.ApiDescription;

/// <summary>
/// The document's title, the bearer scheme every non-anonymous operation uses (API tokens and agent session tokens),
/// and required members: every property of a type the server only sends (reached from a response, never from a
/// request body) is required, because the serializer always writes it (null where nullable) — except those it leaves
/// out when null (<see cref="WireSchemaTransformer.OmittedWhenNull"/>). No member of a request type is required:
/// the generator took constructor parameters for required members, but the server reads a body without them (absent
/// is null) and its validation answers a 400 problem whose <c>errors</c> name what is missing or wrong — PATCH bodies
/// carry just what changes.
/// </summary>
public sealed class WiretyDocumentTransformer : IOpenApiDocumentTransformer
{
    public const string BearerScheme = "bearer";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken ct)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Wirety API",
            Version = "v1",
            Description = "The Wirety control plane's HTTP API. Errors are RFC 7807 problems (application/problem+json). "
                + "Each operation's `x-wirety-role` names the least role it needs: admin, analyst, viewer (API tokens), agent (an agent session token) or anonymous.",
        };
        document.Components ??= new OpenApiComponents();
        // ApiExplorer's stand-in for an untyped result; every operation's success is described by ApiResponses instead.
        document.Components.Schemas?.Remove(nameof(IResult));
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http, Scheme = "bearer",
            Description = "An API token (wirety_...) or, for the agent operations, an agent session token.",
        };
        foreach (var path in document.Paths.Values)
        foreach (var operation in path.Operations?.Values ?? Enumerable.Empty<OpenApiOperation>())
        {
            if (operation.Extensions?.TryGetValue(WiretyOperationTransformer.RoleExtension, out var role) == true
                && role is JsonNodeExtension { Node: var node } && node.GetValue<string>() == "anonymous") continue;
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] }];
        }
        RequireWhatIsAlwaysSent(document);
        return Task.CompletedTask;
    }

    private static void RequireWhatIsAlwaysSent(OpenApiDocument document)
    {
        var components = document.Components?.Schemas ?? new Dictionary<string, IOpenApiSchema>();
        var operations = document.Paths.Values.SelectMany(p => p.Operations?.Values ?? Enumerable.Empty<OpenApiOperation>()).ToList();
        var sent = new HashSet<string>(StringComparer.Ordinal);
        var received = new HashSet<string>(StringComparer.Ordinal);
        foreach (var operation in operations)
        {
            foreach (var media in operation.RequestBody?.Content?.Values ?? Enumerable.Empty<OpenApiMediaType>()) Reach(media.Schema, components, received, _ => { });
            foreach (var response in operation.Responses?.Values ?? Enumerable.Empty<IOpenApiResponse>())
            foreach (var media in response.Content?.Values ?? Enumerable.Empty<OpenApiMediaType>()) Reach(media.Schema, components, sent, _ => { });
        }
        var responseOnly = sent.Except(received).ToHashSet(StringComparer.Ordinal);
        foreach (var (name, schema) in components)
            Reach(schema, components, new HashSet<string>(StringComparer.Ordinal) { name }, inline =>
            {
                if (received.Contains(name)) inline.Required = new HashSet<string>(StringComparer.Ordinal);
                else if (responseOnly.Contains(name) && inline.Properties is { Count: > 0 } properties)
                {
                    var omitted = inline.Extensions?.TryGetValue(WireSchemaTransformer.OmittedWhenNull, out var e) == true && e is JsonNodeExtension { Node: JsonArray list }
                        ? list.Select(n => n!.GetValue<string>()).ToHashSet(StringComparer.Ordinal) : [];
                    inline.Required = new HashSet<string>(properties.Keys.Where(k => !omitted.Contains(k)), StringComparer.Ordinal);
                }
                inline.Extensions?.Remove(WireSchemaTransformer.OmittedWhenNull);
            }, followReferences: false);
        foreach (var operation in operations)
        foreach (var response in operation.Responses?.Values ?? Enumerable.Empty<IOpenApiResponse>())
        foreach (var media in response.Content?.Values ?? Enumerable.Empty<OpenApiMediaType>())
            Reach(media.Schema, components, new HashSet<string>(), inline => inline.Extensions?.Remove(WireSchemaTransformer.OmittedWhenNull), followReferences: false);
    }

    /// <summary>Visits a schema and its inline sub-schemas; collects the components it references (and, when following, theirs).</summary>
    private static void Reach(IOpenApiSchema? schema, IDictionary<string, IOpenApiSchema> components, ISet<string> names, Action<OpenApiSchema> visit, bool followReferences = true)
    {
        switch (schema)
        {
            case null: return;
            case OpenApiSchemaReference reference:
                if (reference.Reference.Id is { } id && names.Add(id) && followReferences && components.TryGetValue(id, out var target))
                    Reach(target, components, names, visit);
                return;
            case OpenApiSchema inline:
                visit(inline);
                foreach (var property in inline.Properties?.Values ?? Enumerable.Empty<IOpenApiSchema>()) Reach(property, components, names, visit, followReferences);
                Reach(inline.Items, components, names, visit, followReferences);
                Reach(inline.AdditionalProperties, components, names, visit, followReferences);
                foreach (var part in (inline.OneOf ?? []).Concat(inline.AnyOf ?? []).Concat(inline.AllOf ?? [])) Reach(part, components, names, visit, followReferences);
                return;
        }
    }
}
