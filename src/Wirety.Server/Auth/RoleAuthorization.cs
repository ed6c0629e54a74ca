using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Wirety.Events.Tokens;
using Wirety.Server.Problems;
using Wolverine.Attributes;

namespace Wirety.Server.Auth;

/// <summary>Part of the API-token policy: the token's role must be allowed by the endpoint's <see cref="RequiresRoleAttribute"/>.</summary>
public sealed class RoleRequirement : IAuthorizationRequirement;

// Wolverine's handler conventions would take this (name, inherited HandleAsync) for a message handler.
[WolverineIgnore]
public sealed class RoleRequirementHandler : AuthorizationHandler<RoleRequirement>
{
    public const string RoleClaim = "wirety:role";

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, RoleRequirement requirement)
    {
        if (context.Resource is HttpContext http && RoleOf(context.User) is { } role && RequiredFor(http).Allows(role))
            context.Succeed(requirement);
        return Task.CompletedTask;
    }

    public static ApiTokenRole? RoleOf(ClaimsPrincipal user) =>
        Enum.TryParse<ApiTokenRole>(user.FindFirstValue(RoleClaim), ignoreCase: true, out var role) ? role : null;

    private static readonly RequiresRoleAttribute AnyRole = new(ApiTokenRole.Viewer), AdminOnly = new(ApiTokenRole.Admin);

    /// <summary>The endpoint's rule; admin-only when it has none (fail closed).</summary>
    public static RequiresRoleAttribute RequiredFor(HttpContext http) => http.GetEndpoint() switch
    {
        // No endpoint matched: the request ends as a 404 for every role, so the role need not be checked.
        null => AnyRole,
        var endpoint => endpoint.Metadata.GetMetadata<RequiresRoleAttribute>() ?? AdminOnly,
    };
}

/// <summary>Answers a refused role with a 403 problem that names what is needed; everything else as usual.</summary>
// Same here: Wolverine would take it for a handler of RequestDelegate messages, whose code cannot be generated.
[WolverineIgnore]
public sealed class ProblemAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult result)
    {
        if (result.Succeeded && context.User.IsScoped() && context.GetEndpoint() is { } endpoint
            && OutOfScope(context, endpoint) is { } refusal)
        {
            await refusal.ExecuteAsync(context);
            return;
        }
        if (result.Forbidden && context.User.Identity?.IsAuthenticated == true)
        {
            var role = RoleRequirementHandler.RoleOf(context.User)?.ToString().ToLowerInvariant() ?? "unknown";
            await Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
                detail: $"This API token's role ({role}) may not {context.Request.Method} {context.Request.Path}; it needs {RoleRequirementHandler.RequiredFor(context).Describe()}.")
                .ExecuteAsync(context);
            return;
        }
        await _default.HandleAsync(next, context, policy, result);
    }

    /// <summary>
    /// For a caller limited to some networks: the answer when the endpoint reaches outside them, else null. A network
    /// outside the scope answers exactly as one that does not exist, whether it exists or not (no existence leak).
    /// </summary>
    private static IResult? OutOfScope(HttpContext context, Endpoint endpoint) => ScopedAttribute.RuleOf(endpoint) switch
    {
        ScopeRule.RouteNetwork =>
            Guid.TryParse(context.Request.RouteValues[ScopedAttribute.NetworkRouteValue] as string, out var networkId) && !context.User.MaySee(networkId)
                ? Networks.NetworkLookup.Missing(networkId).ToResult()
                : null, // an unreadable id is answered by the endpoint as for anyone
        ScopeRule.FilteredByHandler => null,
        _ => Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
            detail: $"This identity's role is limited to some networks; {context.Request.Method} {context.Request.Path} needs a role over every network."),
    };
}
