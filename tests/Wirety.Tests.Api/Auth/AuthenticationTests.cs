using System.Net;
using System.Net.Http.Json;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Auth;

public sealed class AuthenticationTests(WiretyApp app) : ApiTest(app)
{
    [Fact]
    public async Task health_endpoints_need_no_token()
    {
        var anonymous = App.Client(null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/readyz")).StatusCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wirety_not-a-token-that-exists-anywhere-0000000000")]
    [InlineData("something-else")]
    public async Task api_calls_without_a_valid_token_get_401_problem_details(string? bearer)
    {
        var response = await App.Client(bearer).GetAsync("/api/v1/networks");
        await AssertProblemAsync(response, 401);
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task a_new_token_works_is_listed_without_its_value_and_stops_working_once_revoked()
    {
        var created = await Admin.PostAsJsonAsync("/api/v1/tokens", new { name = "ci", role = "admin" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await BodyAsync(created);
        var value = body.GetProperty("token").GetString()!;
        Assert.StartsWith("wirety_", value);
        var ci = App.Client(value);
        Assert.Equal(HttpStatusCode.OK, (await ci.GetAsync("/api/v1/networks")).StatusCode);

        var list = await (await Admin.GetAsync("/api/v1/tokens")).Content.ReadAsStringAsync();
        Assert.Contains("\"ci\"", list);
        Assert.DoesNotContain(value, list);
        Assert.DoesNotContain("hash", list, StringComparison.OrdinalIgnoreCase);

        var id = body.GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"/api/v1/tokens/{id}")).StatusCode);
        var refused = await AssertProblemAsync(await ci.GetAsync("/api/v1/networks"), 401);
        Assert.Contains("revoked", refused.GetProperty("detail").GetString());
        // Revoking again is a no-op.
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"/api/v1/tokens/{id}")).StatusCode);
    }

    [Fact]
    public async Task an_expired_token_is_refused()
    {
        var created = await BodyAsync(await Admin.PostAsJsonAsync("/api/v1/tokens",
            new { name = "short", role = "admin", expiresAt = App.Clock.GetUtcNow().AddMinutes(10) }));
        var client = App.Client(created.GetProperty("token").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/networks")).StatusCode);
        App.Clock.Advance(TimeSpan.FromMinutes(11));
        var response = await client.GetAsync("/api/v1/networks");
        var problem = await AssertProblemAsync(response, 401);
        Assert.Contains("expired", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task token_requests_are_validated()
    {
        await AssertRefusedAsync(() => Admin.PostAsJsonAsync("/api/v1/tokens", new { name = "", role = "admin" }), 400);
        await AssertRefusedAsync(() => Admin.PostAsJsonAsync("/api/v1/tokens", new { name = "x", role = "admin", expiresAt = "2001-01-01T00:00:00Z" }), 400);
        await AssertRefusedAsync(() => Admin.PostAsync("/api/v1/tokens", new StringContent("{nope", System.Text.Encoding.UTF8, "application/json")), 400);
        await AssertRefusedAsync(() => Admin.DeleteAsync($"/api/v1/tokens/{Guid.NewGuid()}"), 404);
    }

    [Fact]
    public async Task the_last_usable_token_cannot_be_revoked()
    {
        var tokens = await BodyAsync(await Admin.GetAsync("/api/v1/tokens"));
        var bootstrap = tokens.EnumerateArray().Single().GetProperty("id").GetString();
        await AssertRefusedAsync(() => Admin.DeleteAsync($"/api/v1/tokens/{bootstrap}"), 409);
    }
}
