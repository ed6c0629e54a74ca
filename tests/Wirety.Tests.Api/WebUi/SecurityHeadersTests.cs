using System.Net;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.WebUi;

public sealed class SecurityHeadersTests(WiretyApp app) : ApiTest(app)
{
    [Theory]
    [InlineData("/")]
    [InlineData("/networks")]
    [InlineData("/assets/app-1234abcd.js")]
    [InlineData("/assets/gone-00000000.js")]
    [InlineData("/healthz")]
    [InlineData("/api/v1/networks")]
    public async Task every_answer_carries_the_browser_hardening_headers(string path)
    {
        var response = await App.Client(null).GetAsync(path);

        var csp = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        var directives = csp.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("default-src 'self'", directives);
        Assert.Contains("frame-ancestors 'none'", directives);
        Assert.Contains("object-src 'none'", directives);
        // Nothing that would let an injected script run.
        Assert.DoesNotContain("unsafe-inline", csp);
        Assert.DoesNotContain("unsafe-eval", csp);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
    }

    [Fact]
    public async Task a_refused_api_call_carries_them_too()
    {
        var response = await Admin.DeleteAsync($"/api/v1/tokens/{Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.True(response.Headers.Contains("Content-Security-Policy"));
        Assert.True(response.Headers.Contains("X-Content-Type-Options"));
    }
}
