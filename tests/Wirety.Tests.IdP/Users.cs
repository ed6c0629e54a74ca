namespace Wirety.Tests.IdP;

/// <summary>A person the provider knows. Every one signs in with the password "password".</summary>
public sealed record User(string Username, string Subject, string Email, string Name, IReadOnlyList<string> Groups);

/// <summary>
/// The fixed people of the tests. mallory deliberately shares alice's e-mail address: a relying party must key users
/// on (issuer, subject), never on the e-mail.
/// </summary>
public static class Users
{
    public const string Password = "password";

    public static readonly IReadOnlyList<User> All =
    [
        new("alice", "u-alice", "alice@corp.example", "Alice Admin", ["wirety-admins"]),
        new("bob", "u-bob", "bob@corp.example", "Bob Viewer", ["staff"]),
        new("mallory", "u-mallory", "alice@corp.example", "Mallory", []),
        new("carol", "u-carol", "carol@corp.example", "Carol", ["corp-ops"]),
    ];

    public static User? ByUsername(string? username) => All.FirstOrDefault(u => u.Username == username);

    public static User? BySubject(string? subject) => All.FirstOrDefault(u => u.Subject == subject);

    public static User? SignIn(string? username, string? password) =>
        password == Password ? ByUsername(username) : null;
}
