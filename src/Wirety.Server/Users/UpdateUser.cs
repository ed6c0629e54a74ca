using System.Security.Claims;
using Marten;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events;
using Wirety.Events.Tokens;
using Wirety.Events.Users;
using Wirety.Projections.Networks;
using Wirety.Server.Networks;
using Wirety.Projections.Users;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;
using Wolverine.Marten;

namespace Wirety.Server.Users;

using Events = Wolverine.Marten.Events;

/// <summary>
/// PATCH body. <c>role</c>: <c>admin</c>, <c>analyst</c>, <c>viewer</c> — the grant becomes exactly that role limited
/// to <c>networkIds</c> (absent/null: every network) — or <c>none</c> (revoked); absent: the role stays. <c>networkIds</c>
/// without <c>role</c> re-scopes the current role. <c>disabled</c>: true refuses the user's sign-ins, sessions and JWTs.
/// </summary>
public sealed record UpdateUserRequest(string? Role, IReadOnlyList<Guid>? NetworkIds, bool? Disabled);

/// <summary>
/// Grants, re-scopes or revokes a user's role and disables or enables the user; each change is its own event with
/// the acting admin. A request that changes nothing is a no-op. An admin may not disable or demote himself (409):
/// that is how the last admin locks everyone out.
/// </summary>
public static class UpdateUser
{
    public const string None = "none";

    public static ApiTokenRole? ParseRole(string? role) => role switch
    {
        "admin" => ApiTokenRole.Admin,
        "analyst" => ApiTokenRole.Analyst,
        "viewer" => ApiTokenRole.Viewer,
        _ => null,
    };

    /// <summary>The requested networks that exist (the rest are refused by <see cref="Validate"/>).</summary>
    public static Task<ExistingNetworks> LoadAsync(UpdateUserRequest? request, IDocumentSession session, CancellationToken ct) =>
        ExistingNetworks.LoadAsync(request?.NetworkIds, session, ct);

    public static ProblemDetails Validate(UpdateUserRequest? request, User? user, Guid userId, ExistingNetworks known, ClaimsPrincipal caller)
    {
        if (request is null) return ApiProblems.MissingBody();
        if (user is null) return UserLookup.Missing(userId);
        var errors = new ValidationErrors();
        if (request.Role is not null && request.Role != None && ParseRole(request.Role) is null)
            errors.Add("role", "role must be admin, analyst, viewer or none.");
        if (request.NetworkIds is { } ids)
        {
            if (request.Role == None) errors.Add("networkIds", "networkIds goes with a role; role none revokes every network.");
            else if (known.Check(ids) is { } wrong) errors.Add("networkIds", wrong);
            else if (request.Role is null && user.Role is null)
                errors.Add("networkIds", "The user has no role to limit; give role together with networkIds.");
        }
        if (errors.Any) return errors.ToProblem();

        if (IsSelf(caller, userId))
        {
            if (request.Disabled == true) return ApiProblems.Conflict("You cannot disable yourself; ask another admin.");
            var (role, networks) = GrantAfter(request, user);
            if (role != ApiTokenRole.Admin || networks is not null)
                return ApiProblems.Conflict("You cannot take away or narrow your own admin role; ask another admin.");
        }
        return ApiProblems.None;
    }

    private static bool IsSelf(ClaimsPrincipal caller, Guid userId) =>
        caller.FindFirstValue(NetworkScope.KindClaim) is not NetworkScope.TokenKind
        && Guid.TryParse(caller.FindFirstValue(ClaimTypes.NameIdentifier), out var id) && id == userId;

    /// <summary>The grant the request leaves the user with.</summary>
    public static (ApiTokenRole? Role, IReadOnlyList<Guid>? Networks) GrantAfter(UpdateUserRequest request, User user) => request.Role switch
    {
        null when request.NetworkIds is { } ids => (user.Role, ids.Distinct().ToList()),
        null => (user.Role, user.NetworkIds),
        None => (null, null),
        var role => (ParseRole(role), request.NetworkIds?.Distinct().ToList()),
    };

    public static bool SameNetworks(IReadOnlyList<Guid>? a, IReadOnlyList<Guid>? b) =>
        a is null ? b is null : b is not null && a.ToHashSet().SetEquals(b);

    /// <summary>The pure decision: the events the request causes on <paramref name="user"/>'s stream.</summary>
    public static IReadOnlyList<object> Decide(UpdateUserRequest request, User user, Actor actor, DateTimeOffset now)
    {
        var events = new List<object>();
        if (request.Role is not null || request.NetworkIds is not null)
        {
            var (role, networks) = GrantAfter(request, user);
            if (role is null)
            {
                if (user.Role is not null) events.Add(new UserRoleRevoked(user.Id, actor, now, GrantSource.Admin));
            }
            // Granting what the role map granted makes it the admin's (the map no longer changes it).
            else if (role != user.Role || !SameNetworks(networks, user.NetworkIds) || user.GrantSource != GrantSource.Admin)
                events.Add(new UserRoleGranted(user.Id, role.Value, networks, actor, now, GrantSource.Admin));
        }
        if (request.Disabled == true && !user.Disabled) events.Add(new UserDisabled(user.Id, actor, now));
        if (request.Disabled == false && user.Disabled) events.Add(new UserEnabled(user.Id, actor, now));
        return events;
    }

    [RequiresRole(ApiTokenRole.Admin), Scoped(ScopeRule.EveryNetworkOnly)]
    [WolverinePatch("/api/v1/users/{userId}")]
    public static (IResult, Events) Patch(
        UpdateUserRequest request, [WriteAggregate("userId", Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] User user,
        ClaimsPrincipal caller, TimeProvider clock)
    {
        var events = Decide(request, user, caller.ToActor(), clock.GetUtcNow());
        var after = events.Aggregate(user, (u, e) => UserEvolution.Evolve(u, e)!);
        return (Results.Ok(UserView.Of(after)), [.. events]);
    }
}

