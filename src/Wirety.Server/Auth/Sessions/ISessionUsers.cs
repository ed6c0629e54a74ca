using System.Security.Claims;

namespace Wirety.Server.Auth.Sessions;

/// <summary>
/// The people behind UI sessions of kind <see cref="NetworkScope.UserKind"/>: the user's current identity
/// (name, role, network scope claims per <see cref="NetworkScope"/>), looked up on every session request so a
/// changed grant or a disabled user takes effect at once. Implemented where users live (OIDC sign-in).
/// </summary>
public interface ISessionUsers
{
    /// <summary>The user's identity, or null when the user is unknown or disabled (the session then ends).</summary>
    Task<ClaimsIdentity?> IdentityAsync(Guid userId, CancellationToken ct);
}
