using System.Security.Claims;

namespace Wirety.Server.Auth;

/// <summary>
/// The claims every identity carries, whatever authenticated it (API token, UI session, identity-provider
/// JWT): <see cref="ClaimTypes.NameIdentifier"/> = the token's or user's id, <see cref="ClaimTypes.Name"/> =
/// its display name, <see cref="RoleRequirementHandler.RoleClaim"/> = admin | analyst | viewer (absent: no
/// role yet), <see cref="KindClaim"/> = token | user, and one <see cref="Claim"/> per network the role is
/// limited to (none: every network).
/// </summary>
public static class NetworkScope
{
    public const string Claim = "wirety:scope-network"; // not "wirety:network": that is the agent session's own network
    public const string KindClaim = "wirety:kind";
    public const string TokenKind = "token", UserKind = "user";

    /// <summary>The networks the caller is limited to, or null when its role covers every network.</summary>
    public static IReadOnlySet<Guid>? NetworksOf(ClaimsPrincipal user)
    {
        HashSet<Guid>? scope = null;
        foreach (var claim in user.FindAll(Claim))
            (scope ??= []).Add(Guid.TryParse(claim.Value, out var id) ? id : Guid.Empty); // an unreadable claim allows nothing
        return scope;
    }

    public static bool IsScoped(this ClaimsPrincipal user) => user.HasClaim(c => c.Type == Claim);

    /// <summary>Whether the caller may see network <paramref name="networkId"/> (always, for a global role).</summary>
    public static bool MaySee(this ClaimsPrincipal user, Guid networkId) =>
        NetworksOf(user) is not { } scope || (networkId != Guid.Empty && scope.Contains(networkId));

    /// <summary>The claims that limit an identity to <paramref name="networkIds"/> (none for null: every network).</summary>
    public static IEnumerable<Claim> ClaimsFor(IEnumerable<Guid>? networkIds) =>
        networkIds?.Distinct().Select(id => new Claim(Claim, id.ToString())) ?? [];
}
