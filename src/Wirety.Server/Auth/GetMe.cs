using System.Security.Claims;
using Wirety.Events.Tokens;
using Wolverine.Http;

namespace Wirety.Server.Auth;

/// <summary>The calling token as the UI needs it after sign-in (any role).</summary>
public sealed record MeView(Guid TokenId, string Name, ApiTokenRole Role);

public static class GetMe
{
    [RequiresRole(ApiTokenRole.Viewer)]
    [WolverineGet("/api/v1/me")]
    public static MeView Get(ClaimsPrincipal user) =>
        new(Guid.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier)!), user.FindFirstValue(ClaimTypes.Name)!,
            RoleRequirementHandler.RoleOf(user) ?? ApiTokenRole.Viewer);
}
