using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Wirety.Server.ApiDescription;

/// <summary>The document's title, and the bearer scheme every non-anonymous operation uses (API tokens and agent session tokens).</summary>
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
        return Task.CompletedTask;
    }
}
