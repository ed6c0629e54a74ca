using Microsoft.AspNetCore.Mvc.ApiExplorer;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace Wirety.Server.ApiDescription;

/// <summary>
/// Puts each operation's real success response (<see cref="ApiResponses"/>) into ApiExplorer, in place of the untyped
/// <c>IResult</c> it sees, before Microsoft.AspNetCore.OpenApi reads it. Done here rather than in an operation
/// transformer so the document generator builds the body schemas itself: every nested type becomes a named component
/// with its nullability (a nullable property is <c>oneOf [null, $ref]</c>), where a schema built inside a transformer
/// came out inline, lost the nullability of nested objects and repeated types as empty schemas.
/// Runs after Wolverine's and the framework's providers (a higher <see cref="Order"/>).
/// </summary>
public sealed class DocumentedSuccessResponses(IModelMetadataProvider? metadata = null) : IApiDescriptionProvider
{
    public int Order => 10_000;

    public void OnProvidersExecuting(ApiDescriptionProviderContext context)
    {
        foreach (var description in context.Results)
        {
            if (!ApiResponses.ByOperation.TryGetValue($"{description.HttpMethod ?? "GET"} /{description.RelativePath}", out var success)) continue;
            var responses = description.SupportedResponseTypes;
            for (var i = responses.Count - 1; i >= 0; i--)
                if (responses[i].StatusCode is >= 200 and < 300 || responses[i].Type == typeof(IResult)) responses.RemoveAt(i);
            var type = new ApiResponseType { StatusCode = success.Status, Type = success.Body ?? typeof(void), IsDefaultResponse = false };
            if (success.Body is { } body)
            {
                type.ModelMetadata = metadata?.GetMetadataForType(body);
                type.ApiResponseFormats.Add(new ApiResponseFormat { MediaType = success.ContentType });
            }
            responses.Add(type);
        }
    }

    public void OnProvidersExecuted(ApiDescriptionProviderContext context) { }
}
