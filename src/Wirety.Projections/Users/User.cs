using System.Security.Cryptography;
using System.Text;
using JasperFx.Events;
using Marten.Events.Aggregation;
using Wirety.Events.Tokens;
using Wirety.Events.Users;

namespace Wirety.Projections.Users;

/// <summary>
/// A person known from the identity provider, as the API lists it and as authentication needs it. Found by
/// <see cref="IdentityKey"/> (unique): (issuer, subject), never the e-mail.
/// </summary>
public sealed record User
{
    public Guid Id { get; init; }
    public required string Issuer { get; init; }
    public required string Subject { get; init; }
    /// <summary>SHA-256 (hex) of <c>issuer + "\n" + subject</c>: a bounded key for the unique index.</summary>
    public required string IdentityKey { get; init; }
    public string? Email { get; init; }
    public required string Name { get; init; }
    public ApiTokenRole? Role { get; init; }
    /// <summary>The networks the role is limited to; null: every network (or no role).</summary>
    public IReadOnlyList<Guid>? NetworkIds { get; init; }
    /// <summary>Who decided the current grant or revocation (<see cref="GrantSource"/>); null: nobody yet.</summary>
    public string? GrantSource { get; init; }
    public bool Disabled { get; init; }
    public DateTimeOffset FirstSeenAt { get; init; }
    public DateTimeOffset? LastSignInAt { get; init; }

    public static string KeyOf(string issuer, string subject) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(issuer + "\n" + subject)));
}

/// <summary>The user's state from its events: shared by the projection and by replays to a past time.</summary>
public static class UserEvolution
{
    public static readonly IReadOnlyList<Type> EventTypes =
        [typeof(UserSignedIn), typeof(UserRoleGranted), typeof(UserRoleRevoked), typeof(UserDisabled), typeof(UserEnabled)];

    public static User? Evolve(User? user, object data) => (user, data) switch
    {
        (null, UserSignedIn s) => new User
        {
            Id = s.UserId, Issuer = s.Issuer, Subject = s.Subject, IdentityKey = User.KeyOf(s.Issuer, s.Subject),
            Email = s.Email, Name = s.Name, FirstSeenAt = s.At, LastSignInAt = s.At,
        },
        (not null, UserSignedIn s) => user with { Email = s.Email, Name = s.Name, LastSignInAt = s.At },
        (not null, UserRoleGranted g) => user with { Role = g.Role, NetworkIds = g.NetworkIds, GrantSource = g.Source },
        (not null, UserRoleRevoked r) => user with { Role = null, NetworkIds = null, GrantSource = r.Source },
        (not null, UserDisabled) => user with { Disabled = true },
        (not null, UserEnabled) => user with { Disabled = false },
        _ => user,
    };
}

public partial class UserProjection : SingleStreamProjection<User, Guid>
{
    public UserProjection()
    {
        IncludeType<UserSignedIn>();
        IncludeType<UserRoleGranted>();
        IncludeType<UserRoleRevoked>();
        IncludeType<UserDisabled>();
        IncludeType<UserEnabled>();
    }

    public override User? Evolve(User? snapshot, Guid id, IEvent e) => UserEvolution.Evolve(snapshot, e.Data);
}
