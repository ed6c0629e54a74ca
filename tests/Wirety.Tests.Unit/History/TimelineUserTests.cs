using Wirety.Events;
using Wirety.Events.Tokens;
using Wirety.Events.Users;
using Wirety.Projections.History;

namespace Wirety.Tests.Unit.History;

public sealed class TimelineUserTests
{
    private static readonly Guid User = Guid.CreateVersion7(), Net = Guid.CreateVersion7();
    private static readonly Actor Root = new(Guid.CreateVersion7(), "Root Admin");
    private static readonly DateTimeOffset At = new(2026, 3, 3, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void sign_ins_grants_and_disables_read_as_sentences_naming_the_person()
    {
        var events = new object[]
        {
            new UserSignedIn(User, "https://idp/", "u-1", null, "Alice", SignInVia.Ui, At),
            new UserRoleGranted(User, ApiTokenRole.Admin, null, Actor.System, At, GrantSource.RoleMap),
            new UserRoleGranted(User, ApiTokenRole.Analyst, [Net], Root, At, GrantSource.Admin),
            new UserRoleRevoked(User, Root, At, GrantSource.Admin),
            new UserDisabled(User, Root, At),
            new UserEnabled(User, Root, At),
            new UserSignedIn(User, "https://idp/", "u-1", null, "Alice", SignInVia.Jwt, At),
        };
        var entries = Timeline.Build(events.Select((e, i) => new RecordedEvent(i + 1, User, i + 1, e, At)));
        Assert.Equal(
        [
            "Alice signed in",
            "the role map of the identity provider made Alice admin of every network",
            "Root Admin made Alice analyst of 1 network",
            "Root Admin took Alice's role away",
            "Root Admin disabled user Alice",
            "Root Admin enabled user Alice again",
            "Alice signed in with an identity-provider token",
        ], entries.Select(e => e.Summary));
        Assert.All(entries, e => Assert.Equal(("user", User, "Alice"), (e.Subject.Kind, e.Subject.Id, e.Subject.Name)));
    }
}
