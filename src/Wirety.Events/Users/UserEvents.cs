using Wirety.Events.Tokens;

namespace Wirety.Events.Users;

// People who sign in through the identity provider; one stream per user (stream id = UserId, a Guid v7).
// A user is (Issuer, Subject): never the e-mail, which another account may carry too. No secret and no
// token of the provider is ever recorded.

/// <summary>How a sign-in reached Wirety: the web UI's code flow, or a provider-issued JWT sent to the API.</summary>
public static class SignInVia
{
    public const string Ui = "ui", Jwt = "jwt";
}

/// <summary>Who decided a grant or revocation: an admin through the API, or the group-to-role map at a sign-in.</summary>
public static class GrantSource
{
    public const string Admin = "admin", RoleMap = "role-map";
}

/// <summary>
/// The person signed in (<paramref name="Via"/> = <see cref="SignInVia"/>). The first one starts the user's stream;
/// later ones carry the e-mail and name the provider gives now.
/// </summary>
public sealed record UserSignedIn(Guid UserId, string Issuer, string Subject, string? Email, string Name, string Via, DateTimeOffset At);

/// <summary>
/// The user's grant is now exactly <paramref name="Role"/>, limited to <paramref name="NetworkIds"/> (null: every
/// network). <paramref name="Source"/> = <see cref="GrantSource"/>.
/// </summary>
public sealed record UserRoleGranted(Guid UserId, ApiTokenRole Role, IReadOnlyList<Guid>? NetworkIds, Actor Actor, DateTimeOffset At, string Source);

/// <summary>The user has no role any more (403 everywhere until granted one again).</summary>
public sealed record UserRoleRevoked(Guid UserId, Actor Actor, DateTimeOffset At, string Source);

/// <summary>The user may not sign in, and neither a UI session nor a provider JWT of theirs is accepted.</summary>
public sealed record UserDisabled(Guid UserId, Actor Actor, DateTimeOffset At);

public sealed record UserEnabled(Guid UserId, Actor Actor, DateTimeOffset At);
