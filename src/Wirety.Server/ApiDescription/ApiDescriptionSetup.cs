using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.ApiExplorer;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Scalar.AspNetCore;

namespace Wirety.Server.ApiDescription;

/// <summary>
/// The API's OpenAPI document at <c>/api/v1/openapi.json</c>, generated from the mapped endpoints (Wolverine.Http
/// publishes its chains to ApiExplorer, which Microsoft.AspNetCore.OpenApi reads), and a Scalar reference page at
/// <c>/api/docs</c>. Both are anonymous, like the web UI: they describe the API's shape and hold no data, and the
/// reference page's browser code fetches the document without a credential.
/// </summary>
public static class ApiDescriptionSetup
{
    public const string DocumentName = "v1";
    public const string DocumentPath = "/api/v1/openapi.json";
    public const string DocsPath = "/api/docs";

    public static IServiceCollection AddApiDescription(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Transient<IApiDescriptionProvider, DocumentedSuccessResponses>());
        return services.AddOpenApi(DocumentName, o =>
        {
            o.AddDocumentTransformer<WiretyDocumentTransformer>();
            o.AddOperationTransformer<WiretyOperationTransformer>();
            o.AddSchemaTransformer<WireSchemaTransformer>();
            // Only the API: the health probes are documented in the README, the WebSockets are not HTTP operations.
            o.ShouldInclude = d => d.RelativePath?.StartsWith("api/", StringComparison.Ordinal) == true;
        });
    }

    public static IEndpointRouteBuilder MapApiDescription(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi(DocumentPath).AllowAnonymous().ExcludeFromDescription();
        app.MapScalarApiReference(DocsPath, o => o
                .WithTitle("Wirety API")
                .WithOpenApiRoutePattern(DocumentPath))
            .AllowAnonymous().ExcludeFromDescription();
        return app;
    }
}
