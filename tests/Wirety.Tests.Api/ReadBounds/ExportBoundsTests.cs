using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.ReadBounds;

/// <summary>On the shared server (default bounds: two exports per token at once).</summary>
public sealed class ExportConcurrencyTests(WiretyApp app) : ApiTest(app)
{
    private const int Seeded = 4000; // ~1.2 MB of NDJSON: far more than the test server's response buffer (64 KB)

    private static HttpRequestMessage Export() =>
        new(HttpMethod.Get, "/api/v1/events") { Headers = { Accept = { new MediaTypeWithQualityHeaderValue("application/x-ndjson") } } };

    private static async Task<List<string>> LinesAsync(HttpResponseMessage response)
    {
        var lines = new List<string>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line) lines.Add(line);
        return lines;
    }

    [Fact]
    public async Task a_token_runs_at_most_two_exports_at_once_the_third_is_429_with_retry_after_and_other_tokens_are_unaffected()
    {
        var net = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        await HistorySeed.AppendRenamesAsync(App.Store, net, Seeded, App.Clock.GetUtcNow());
        var analystToken = (await BodyAsync(await Admin.PostAsJsonAsync("/api/v1/tokens", new { name = "analyst", role = "analyst" })))
            .GetProperty("token").GetString()!;
        var analyst = App.Client(analystToken);
        var total = await App.EventCountAsync();

        // Two exports started and not read: the server is blocked writing them (the response buffer is full), so both are running.
        var first = await analyst.SendAsync(Export(), HttpCompletionOption.ResponseHeadersRead);
        var second = await analyst.SendAsync(Export(), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);

        var third = await analyst.SendAsync(Export());
        var problem = await AssertProblemAsync(third, 429);
        Assert.Contains("2", problem.GetProperty("detail").GetString());
        Assert.True(third.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {third.Headers.RetryAfter}");
        // Pages are not exports: the same token still reads pages.
        Assert.Equal(HttpStatusCode.OK, (await analyst.GetAsync("/api/v1/events?limit=10")).StatusCode);

        // Another token has its own budget, and its export is whole.
        var other = await Admin.SendAsync(Export(), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal(total, (await LinesAsync(other)).Count);

        // The held exports were only slowed, not cut: each is complete, with no error line.
        foreach (var held in new[] { first, second })
        {
            var lines = await LinesAsync(held);
            Assert.Equal(total, lines.Count);
            Assert.All(lines, l => Assert.True(JsonDocument.Parse(l).RootElement.TryGetProperty("sequence", out _)));
        }
    }
}
