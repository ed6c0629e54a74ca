using System.Security.Claims;
using Wirety.Events.Tokens;
using Wolverine.Http;

namespace Wirety.Server.Auth;

/// <summary>
/// The caller as the UI needs it after sign-in: who (an API token or a person), its role, the networks the role is
/// limited to (null: every network) and, on a UI session, the CSRF token its writes must send.
/// </summary>
public sealed record MeView(Guid Id, string Name, string Kind, ApiTokenRole Role, IReadOnlyList<Guid>? NetworkIds, string? CsrfToken);

public static class GetMe
{
    public const string CsrfClaim = "wirety:csrf";

    [RequiresRole(ApiTokenRole.Viewer), Scoped(ScopeRule.FilteredByHandler)]
    [WolverineGet("/api/v1/me")]
    public static MeView Get(ClaimsPrincipal user) =>
        new(Guid.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier)!), user.FindFirstValue(ClaimTypes.Name)!,
            user.FindFirstValue(NetworkScope.KindClaim) ?? NetworkScope.TokenKind,
            RoleRequirementHandler.RoleOf(user) ?? ApiTokenRole.Viewer,
            NetworkScope.NetworksOf(user)?.Order().ToList(), user.FindFirstValue(CsrfClaim));
}
