using Wirety.Events;
using Wirety.Events.Tokens;
using Wirety.Projections.Tokens;
using Wirety.Server.Auth;
using Wirety.Server.Networks;
using Wirety.Server.Tokens;
using static Wirety.Tests.Unit.Decided;

namespace Wirety.Tests.Unit.Tokens;

public sealed class ApiTokenDeciderTests
{
    private static readonly ApiToken Auditor = new()
    {
        Id = Guid.Parse("00000000-0000-0000-0000-00000000a0d1"), Name = "auditor", TokenHash = "ab", CreatedBy = Wirety.Events.Actor.System,
        Role = ApiTokenRole.Analyst,
    };

    [Fact]
    public void issuing_a_token_starts_its_stream_with_the_hash_and_answers_the_value_once()
    {
        var request = new IssueApiTokenRequest(" auditor ", "analyst", Now.AddDays(30));
        Accepted(IssueApiToken.Validate(request, None, Clock));

        var (result, start) = IssueApiToken.Post(request, Admin, Clock);

        var issued = Assert.IsType<ApiTokenIssued>(Assert.Single(start.Events));
        var body = Body<IssuedApiToken>(result);
        Assert.Equal((start.StreamId, "auditor", ApiTokenRole.Analyst, AdminActor), (issued.TokenId, issued.Name, issued.Role, issued.Actor));
        Assert.Equal(TokenSecrets.Hash(body.Token), issued.TokenHash);
        Assert.DoesNotContain(body.Token, issued.ToString());
    }

    [Fact]
    public void a_token_needs_a_name_a_known_role_and_a_future_expiry()
    {
        Assert.Equal(["expiresAt", "name", "role"], Fields(Refused(IssueApiToken.Validate(new("", "Admin", Now), None, Clock), 400)));
        Refused(IssueApiToken.Validate(null, None, Clock), 400);
    }

    private static readonly ExistingNetworks None = new(new HashSet<Guid>());

    [Fact]
    public void a_token_limited_to_networks_records_them_and_names_each_one_that_does_not_exist()
    {
        var corp = Guid.Parse("00000000-0000-0000-0000-0000000000c1");
        var request = new IssueApiTokenRequest("ops", "admin", null, [corp]);
        Accepted(IssueApiToken.Validate(request, new ExistingNetworks(new HashSet<Guid> { corp }), Clock));
        var (result, start) = IssueApiToken.Post(request, Admin, Clock);
        Assert.Equal([corp], Assert.IsType<ApiTokenIssued>(Assert.Single(start.Events)).NetworkIds);
        Assert.Equal([corp], Body<IssuedApiToken>(result).NetworkIds);

        var gone = Guid.Parse("00000000-0000-0000-0000-0000000000c2");
        var refused = Refused(IssueApiToken.Validate(new("ops", "admin", null, [corp, gone]), new ExistingNetworks(new HashSet<Guid> { corp }), Clock), 400);
        Assert.Equal(["networkIds"], Fields(refused));
        Assert.Contains($"networkIds[1] ({gone}) names no network", Assert.IsType<Microsoft.AspNetCore.Http.HttpValidationProblemDetails>(refused).Errors["networkIds"][0]);
        Assert.Equal(["networkIds"], Fields(Refused(IssueApiToken.Validate(new("ops", "admin", null, []), None, Clock), 400)));
    }

    [Fact]
    public void revoking_a_token_appends_api_token_revoked_and_revoking_it_again_is_a_no_op()
    {
        var (result, events) = RevokeApiToken.Delete(Auditor, Admin, Clock);
        Assert.Equal(new ApiTokenRevoked(Auditor.Id, AdminActor, Now), Assert.Single(events));
        Assert.Equal(204, Status(result));

        var (again, none) = RevokeApiToken.Delete(Auditor with { RevokedAt = Now }, Admin, Clock);
        Assert.Empty(none);
        Assert.Equal(204, Status(again));
    }
}
