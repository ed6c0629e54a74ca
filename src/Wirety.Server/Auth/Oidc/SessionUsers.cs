using System.Security.Claims;
using Marten;
using Wirety.Projections.Users;
using Wirety.Server.Auth.Sessions;

namespace Wirety.Server.Auth.Oidc;

/// <summary>
/// A user's current identity for UI sessions and provider JWTs, read from the <see cref="User"/> document on every
/// request, so a grant, a revocation or a disable takes effect at once: id, name, role (none: no role claim, 403
/// everywhere), network scope. Null when the user is unknown or disabled.
/// </summary>
public sealed class SessionUsers(IDocumentStore store) : ISessionUsers
{
    public async Task<ClaimsIdentity?> IdentityAsync(Guid userId, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        return await session.LoadAsync<User>(userId, ct) is { Disabled: false } user ? IdentityOf(user) : null;
    }

    public static ClaimsIdentity IdentityOf(User user)
    {
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, user.Id.ToString()), new Claim(ClaimTypes.Name, user.Name)], NetworkScope.UserKind);
        if (user.Role is { } role)
        {
            identity.AddClaim(new Claim(RoleRequirementHandler.RoleClaim, role.ToString().ToLowerInvariant()));
            identity.AddClaims(NetworkScope.ClaimsFor(user.NetworkIds));
        }
        return identity;
    }
}
