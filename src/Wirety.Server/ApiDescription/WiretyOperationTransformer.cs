using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using System.Text.Json.Nodes;
using Wirety.Events.Tokens;
using Wirety.Server.Auth;

namespace Wirety.Server.ApiDescription;

/// <summary>
/// Adds what the endpoints' own metadata does not say: who may call an operation (<c>x-wirety-role</c>: admin,
/// analyst, viewer, anonymous or agent, from <see cref="RequiresRoleAttribute"/>, <c>[AllowAnonymous]</c> or the agent
/// session policy) and the RFC 7807 problems it can answer (400, 401, 403, 404, 409), all as
/// <c>application/problem+json</c>.
/// </summary>
public sealed class WiretyOperationTransformer : IOpenApiOperationTransformer
{
    public const string RoleExtension = "x-wirety-role";

    public async Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var role = RoleOf(metadata);
        operation.Extensions ??= new Dictionary<string, IOpenApiExtension>();
        operation.Extensions[RoleExtension] = new JsonNodeExtension(JsonValue.Create(role));
        operation.Description = (operation.Description is { Length: > 0 } d ? d + "\n\n" : "") + role switch
        {
            "anonymous" => "No credential needed.",
            "agent" => "Needs an agent session token (Bearer), from enrollment.",
            "viewer" => "Needs an API token of any role (Bearer).",
            _ => $"Needs an API token with the {role} role or above (Bearer).",
        };

        var problem = await context.GetOrCreateSchemaAsync(typeof(ProblemDetails), null, ct);
        context.Document?.AddComponent(nameof(ProblemDetails), problem);
        IOpenApiSchema problemRef = context.Document is null ? problem : new OpenApiSchemaReference(nameof(ProblemDetails), context.Document);
        operation.Responses ??= new OpenApiResponses();
        void Problem(int status, string description)
        {
            var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (operation.Responses.TryGetValue(key, out var existing) && existing.Content?.ContainsKey("application/problem+json") == true) return;
            operation.Responses[key] = new OpenApiResponse
            {
                Description = description,
                Content = new Dictionary<string, OpenApiMediaType> { ["application/problem+json"] = new() { Schema = problemRef } },
            };
        }

        var method = context.Description.HttpMethod ?? "GET";
        var path = context.Description.RelativePath ?? "";
        if (ApiResponses.ByOperation.TryGetValue($"{method} /{path}", out var success))
        {
            foreach (var key in operation.Responses.Keys.Where(k => k.StartsWith('2')).ToList()) operation.Responses.Remove(key);
            operation.Responses[success.Status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new OpenApiResponse
            {
                Description = success.Status switch { 201 => "Created", 204 => "No content", _ => "OK" },
                Content = success.Body is null ? null : new Dictionary<string, OpenApiMediaType>
                {
                    [success.ContentType] = new() { Schema = await SchemaAsync(context, success.Body, ct) },
                },
            };
        }
        var writes = method is not "GET" and not "HEAD";
        if (writes || operation.Parameters?.Count > 0) Problem(400, "The request is invalid (a field, a parameter or the body); `errors` names the fields.");
        if (role != "anonymous") Problem(401, "No credential, or one that is unknown, expired or revoked.");
        if (role is "analyst" or "admin") Problem(403, $"The API token's role is below {role}.");
        if (path.Contains('{')) Problem(404, "A resource named in the path does not exist (or is out of the token's scope).");
        if (writes) Problem(409, "The change conflicts with the current state or raced another change.");
    }

    /// <summary>A named component for a type (referenced), inline for strings and lists.</summary>
    private static async Task<IOpenApiSchema> SchemaAsync(OpenApiOperationTransformerContext context, Type type, CancellationToken ct)
    {
        var schema = await context.GetOrCreateSchemaAsync(type, null, ct);
        if (type == typeof(string) || type.IsGenericType || context.Document is null) return schema;
        context.Document.AddComponent(type.Name, schema);
        return new OpenApiSchemaReference(type.Name, context.Document);
    }

    public static string RoleOf(IList<object> metadata)
    {
        if (metadata.OfType<RequiresRoleAttribute>().FirstOrDefault() is { } rule) return rule.Role.ToString().ToLowerInvariant();
        if (metadata.OfType<IAllowAnonymous>().Any()) return "anonymous";
        if (metadata.OfType<IAuthorizeData>().Any(a => a.Policy == AgentSessionAuthentication.Policy)) return "agent";
        return nameof(ApiTokenRole.Admin).ToLowerInvariant(); // no rule: admin-only at run time (fail closed)
    }
}
