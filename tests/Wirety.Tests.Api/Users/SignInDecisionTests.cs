using Wirety.Events;
using Wirety.Events.Tokens;
using Wirety.Events.Users;
using Wirety.Projections.Users;
using Wirety.Server.Auth.Oidc;
using Wirety.Server.Users;

namespace Wirety.Tests.Api.Users;

/// <summary>The pure sign-in decider and the role map (no database).</summary>
public sealed class SignInDecisionTests
{
    private static readonly Guid NetA = new("0192f000-0000-7000-8000-00000000000a"), NetB = new("0192f000-0000-7000-8000-00000000000b");
    private static readonly RoleMap Map = RoleMap.Parse($"wirety-admins=admin; ops=analyst@{NetA}; ops-b=analyst@{NetB}; staff=viewer");
    private static readonly DateTimeOffset Now = new(2026, 3, 3, 9, 0, 0, TimeSpan.Zero);
    private static readonly Guid NewId = Guid.CreateVersion7(Now);

    private static ProviderIdentity Who(params string[]? groups) => new("https://idp/", "u-1", "a@corp.example", "A", groups);

    private static User Evolve(IEnumerable<object> events) => events.Aggregate((User?)null, UserEvolution.Evolve)!;

    [Fact]
    public void the_highest_mapped_role_wins_with_the_union_of_its_networks()
    {
        Assert.Equal(new MappedGrant(ApiTokenRole.Admin, null), Map.GrantFor(["staff", "wirety-admins", "ops"]));
        var ops = Map.GrantFor(["ops", "ops-b", "staff"])!;
        Assert.Equal(ApiTokenRole.Analyst, ops.Role);
        Assert.Equal([NetA, NetB], ops.NetworkIds!.Order());
        Assert.Null(Map.GrantFor(["WIRETY-ADMINS", "other"])); // exact names only
        Assert.True(RoleMap.Parse(null).IsEmpty);
        foreach (var bad in new[] { "admins", "admins=root", "ops=analyst@", "ops=analyst@nope", $"ops=analyst@{Guid.Empty}" })
            Assert.Throws<InvalidOperationException>(() => RoleMap.Parse(bad));
    }

    [Fact]
    public void a_first_sign_in_creates_the_user_and_records_the_mapped_grant()
    {
        var d = SignInUser.Decide(null, Who("ops"), SignInVia.Ui, Map, NewId, Now);
        Assert.Equal([typeof(UserSignedIn), typeof(UserRoleGranted)], d.Events.Select(e => e.GetType()));
        var grant = (UserRoleGranted)d.Events[1];
        Assert.Equal((NewId, ApiTokenRole.Analyst, GrantSource.RoleMap), (grant.UserId, grant.Role, grant.Source));
        Assert.Equal([NetA], grant.NetworkIds!);
        Assert.Equal(ApiTokenRole.Analyst, d.User!.Role);
        // Unmapped groups: a user with no role, and nothing else recorded.
        Assert.Single(SignInUser.Decide(null, Who("nobody"), SignInVia.Ui, Map, NewId, Now).Events);
    }

    [Fact]
    public void the_map_follows_group_changes_but_never_overrides_an_admins_grant()
    {
        var mapped = Evolve(SignInUser.Decide(null, Who("wirety-admins"), SignInVia.Ui, Map, NewId, Now).Events);
        // Left the admins group: the map's grant is revoked, by the map.
        var left = SignInUser.Decide(mapped, Who("staff-none"), SignInVia.Ui, Map, NewId, Now);
        Assert.Equal(GrantSource.RoleMap, Assert.IsType<UserRoleRevoked>(left.Events[1]).Source);
        // Same groups again: only the sign-in.
        Assert.Single(SignInUser.Decide(mapped, Who("wirety-admins"), SignInVia.Ui, Map, NewId, Now).Events);

        var byAdmin = UserEvolution.Evolve(mapped, new UserRoleGranted(NewId, ApiTokenRole.Viewer, null, new Actor(Guid.NewGuid(), "root"), Now, GrantSource.Admin))!;
        Assert.Single(SignInUser.Decide(byAdmin, Who("wirety-admins"), SignInVia.Ui, Map, NewId, Now).Events);
        Assert.Single(SignInUser.Decide(byAdmin, Who(), SignInVia.Ui, Map, NewId, Now).Events);
    }

    [Fact]
    public void a_jwt_signs_in_only_on_first_contact_and_without_a_groups_claim_leaves_the_grant_alone()
    {
        var first = SignInUser.Decide(null, Who(null), SignInVia.Jwt, Map, NewId, Now);
        Assert.Equal(SignInVia.Jwt, Assert.IsType<UserSignedIn>(Assert.Single(first.Events)).Via);
        var mapped = Evolve(SignInUser.Decide(null, Who("wirety-admins"), SignInVia.Ui, Map, NewId, Now).Events);
        Assert.Empty(SignInUser.Decide(mapped, Who(null), SignInVia.Jwt, Map, NewId, Now).Events);
        Assert.IsType<UserRoleRevoked>(Assert.Single(SignInUser.Decide(mapped, Who([]), SignInVia.Jwt, Map, NewId, Now).Events));
    }

    [Fact]
    public void a_disabled_user_is_refused_and_nothing_is_recorded()
    {
        var user = UserEvolution.Evolve(Evolve(SignInUser.Decide(null, Who(), SignInVia.Ui, Map, NewId, Now).Events),
            new UserDisabled(NewId, Actor.System, Now));
        var d = SignInUser.Decide(user, Who("wirety-admins"), SignInVia.Ui, Map, NewId, Now);
        Assert.True(d.Refused);
        Assert.Empty(d.Events);
    }

    [Theory]
    [InlineData("/networks?x=1", "/networks?x=1")]
    [InlineData("/", "/")]
    [InlineData(null, "/")]
    [InlineData("", "/")]
    [InlineData("//evil.example/x", "/")]
    [InlineData("/\\evil.example", "/")]
    [InlineData("https://evil.example/", "/")]
    [InlineData("networks", "/")]
    public void return_urls_are_local_paths_only(string? url, string expected) => Assert.Equal(expected, OidcSetup.LocalPathOrRoot(url));
}
