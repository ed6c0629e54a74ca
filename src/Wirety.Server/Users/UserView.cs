using Wirety.Events.Tokens;
using Wirety.Projections.Users;

namespace Wirety.Server.Users;

/// <summary>A user as the API shows it (<c>role</c> null: no role yet or revoked; <c>networkIds</c> null: every network).</summary>
public sealed record UserView(
    Guid Id, string Issuer, string Subject, string? Email, string Name, ApiTokenRole? Role, IReadOnlyList<Guid>? NetworkIds,
    bool Disabled, DateTimeOffset FirstSeenAt, DateTimeOffset? LastSignInAt)
{
    public static UserView Of(User u) =>
        new(u.Id, u.Issuer, u.Subject, u.Email, u.Name, u.Role, u.Role is null ? null : u.NetworkIds, u.Disabled, u.FirstSeenAt, u.LastSignInAt);
}

public static class UserLookup
{
    public static Microsoft.AspNetCore.Mvc.ProblemDetails Missing(Guid userId) =>
        Problems.ApiProblems.NotFound($"There is no user {userId}.");
}
