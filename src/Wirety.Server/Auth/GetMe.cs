using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events.Tokens;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Auth;

/// <summary>
/// The caller as the UI needs it after sign-in: who (an API token or a person), its role (null: a person an admin has
/// not granted one yet), the networks the role is limited to (null: every network) and, on a UI session, the CSRF token
/// its writes must send.
/// </summary>
public sealed record MeView(Guid Id, string Name, string Kind, ApiTokenRole? Role, IReadOnlyList<Guid>? NetworkIds, string? CsrfToken);

public static class GetMe
{
    /// <summary>Any signed-in identity, a role-less one too (so the UI can say who is signed in); 401 without one.</summary>
    public static ProblemDetails Validate(ClaimsPrincipal user) =>
        user.Identity?.IsAuthenticated == true && user.FindFirstValue(ClaimTypes.NameIdentifier) is not null
            ? ApiProblems.None
            : new ProblemDetails { Status = 401, Title = "Unauthorized", Detail = "Sign in, or send `Authorization: Bearer wirety_...`." };

    // Anonymous at the door so that a person without a role reaches it; Validate refuses anyone not signed in.
    [AllowAnonymous]
    [WolverineGet("/api/v1/me")]
    public static MeView Get(ClaimsPrincipal user) =>
        new(Guid.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier)!), user.FindFirstValue(ClaimTypes.Name) ?? "",
            user.FindFirstValue(NetworkScope.KindClaim) ?? NetworkScope.TokenKind,
            RoleRequirementHandler.RoleOf(user),
            NetworkScope.NetworksOf(user)?.Order().ToList(), user.FindFirstValue(Sessions.UiSessionCookie.CsrfClaim));
}
