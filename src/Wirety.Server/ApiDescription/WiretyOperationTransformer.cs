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
/// session policy) and the RFC 7807 problems it can answer (400, 401, 403, 404, 409, 413, 415, 422, 429, 503), all as
/// <c>application/problem+json</c>. The success responses come from <see cref="DocumentedSuccessResponses"/>.
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
        // A validation problem (400) also carries `errors`: field → messages (HttpValidationProblemDetails, ApiProblems).
        problem.Properties ??= new Dictionary<string, IOpenApiSchema>();
        problem.Properties["errors"] = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "On a validation problem: the messages for each field (or parameter) that is invalid.",
            AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
        };
        // Like the other members (null ones are left out), so not required: only validation problems carry it.
        problem.Extensions ??= new Dictionary<string, IOpenApiExtension>();
        var omitted = problem.Extensions.TryGetValue(WireSchemaTransformer.OmittedWhenNull, out var e) && e is JsonNodeExtension { Node: JsonArray list } ? list : new JsonArray();
        if (!omitted.Any(n => n?.GetValue<string>() == "errors")) omitted.Add("errors");
        problem.Extensions[WireSchemaTransformer.OmittedWhenNull] = new JsonNodeExtension(omitted);
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
        var writes = method is not "GET" and not "HEAD";
        // Every operation: some read query values by hand (event filters, paging, time travel) that no parameter lists.
        Problem(400, "The request is invalid (a field, a parameter or the body); `errors` names the fields.");
        if (role != "anonymous") Problem(401, "No credential, or one that is unknown, expired or revoked.");
        if (role is "analyst" or "admin") Problem(403, $"The caller's role is below {role}, or it has none yet, or it is limited to networks and the operation is not about one of them.");
        if (role == "viewer") Problem(403, "The caller (a person) has no role yet, or (a UI session's write) the X-Wirety-CSRF header is missing or wrong.");
        if (path == "api/v1/me") Problem(401, "Nobody is signed in: no UI session and no usable credential.");
        if (path.Contains('{')) Problem(404, "A resource named in the path does not exist (or is out of the token's scope).");
        if (path == "api/v1/auth/oidc/login") Problem(404, "Single sign-on is not configured on this server (WIRETY_OIDC_ISSUER, WIRETY_OIDC_CLIENT_ID).");
        if (writes) Problem(409, "The change conflicts with the current state or raced another change.");
        if (role == "anonymous" && writes) Problem(401, "The request's token (an enrollment token) is unknown, used, expired or revoked.");
        if (operation.RequestBody is not null)
        {
            Problem(413, "The body is larger than this operation accepts (Limits: admin API 1 MiB, agent endpoints 64 KiB, heartbeat 640 KiB).");
            Problem(415, "The body is not application/json.");
            // What the server really does: a body that is not JSON matches no endpoint, and the framework's 415 answer
            // falls under the admin API's fallback authorization first, so without an admin API token it is 401 or 403.
            Problem(401, "No admin API token, and the body is not application/json (the 415 is only given to an admin token).");
            Problem(403, "The body is not application/json and the API token is not an admin's (the 415 is only given to an admin token).");
        }
        // Rate limits (Limits/): enrollment per source address, heartbeats per session, the admin API per token; config polls are not counted.
        if (!(method == "GET" && path == "api/v1/agent/config")) Problem(429, "Too many requests: retry after the seconds in `Retry-After`.");
        // History replays (History/NetworkHistory.LoadBoundedAsync): bounded in events folded and, like exports, per token.
        if (method == "GET" && ReplayPaths.Contains(path))
            Problem(422, "The replay would fold more events than `Wirety__Limits__ReplayEventLimit` allows; page through `/api/v1/events` instead.");
        // Problems/ExceptionProblems: the database is down or restarting, or an event query ran past its statement timeout.
        Problem(503, "The database is unavailable (restarting or unreachable), or the query ran past its time limit: retry after `Retry-After`.");
    }

    /// <summary>Operations that replay a network's history (<c>?at=</c>, timeline, diffs) and so answer 422 over the replay bound.</summary>
    private static readonly HashSet<string> ReplayPaths =
    [
        "api/v1/networks/{networkId}/state", "api/v1/networks/{networkId}/timeline", "api/v1/networks/{networkId}/reachability",
        "api/v1/networks/{networkId}/peers/{peerId}/config", "api/v1/networks/{networkId}/peers/{peerId}/config/diff",
    ];

    public static string RoleOf(IList<object> metadata)
    {
        if (metadata.OfType<RequiresRoleAttribute>().FirstOrDefault() is { } rule) return rule.Role.ToString().ToLowerInvariant();
        if (metadata.OfType<IAllowAnonymous>().Any()) return "anonymous";
        if (metadata.OfType<IAuthorizeData>().Any(a => a.Policy == AgentSessionAuthentication.Policy)) return "agent";
        return nameof(ApiTokenRole.Admin).ToLowerInvariant(); // no rule: admin-only at run time (fail closed)
    }
}
