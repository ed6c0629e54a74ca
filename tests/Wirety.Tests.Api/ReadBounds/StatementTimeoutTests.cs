using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.ReadBounds;

/// <summary>On a server whose event queries run under a 1 ms statement timeout, over a store too big to read in it.</summary>
[Collection(BoundsCollection.Name)]
public sealed class StatementTimeoutTests(BoundsApp app) : ApiTest(app)
{
    private const int Seeded = 20_000;

    private async Task<Guid> SeedAsync()
    {
        var net = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        await HistorySeed.AppendRenamesAsync(App.Store, net, Seeded, App.Clock.GetUtcNow());
        return net;
    }

    [Fact]
    public async Task an_event_page_that_runs_past_the_statement_timeout_is_a_503_problem_not_a_500()
    {
        await SeedAsync();
        var response = await Admin.GetAsync($"/api/v1/events?limit=1000&from={Uri.EscapeDataString(App.Clock.GetUtcNow().AddDays(-1).ToString("O"))}");
        var problem = await AssertProblemAsync(response, 503);
        Assert.Contains("statement timeout (1 ms)", problem.GetProperty("detail").GetString());
        Assert.DoesNotContain("57014", problem.GetRawText());
    }

    [Fact]
    public async Task an_export_that_runs_past_the_statement_timeout_is_a_503_problem_or_ends_with_an_error_line_never_a_silent_cut()
    {
        await SeedAsync();
        var total = await App.EventCountAsync();
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events") { Headers = { Accept = { new MediaTypeWithQualityHeaderValue("application/x-ndjson") } } };
        var response = await Admin.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Console.WriteLine($"export under a 1 ms statement timeout answered {(int)response.StatusCode}");
        if (response.StatusCode != HttpStatusCode.OK)
        {
            // Stopped before the first line: a plain problem.
            await AssertProblemAsync(response, 503);
            return;
        }
        // Stopped mid-stream: every line before the last is an event, the last one says why it ends there.
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length < total + 1, $"the export was complete ({lines.Length} lines): the timeout did not stop it");
        var last = JsonDocument.Parse(lines[^1]).RootElement.GetProperty("error");
        Assert.Equal(503, last.GetProperty("status").GetInt32());
        Assert.Equal(lines.Length - 1, last.GetProperty("eventsSent").GetInt32());
        Assert.All(lines[..^1], l => Assert.True(JsonDocument.Parse(l).RootElement.TryGetProperty("sequence", out _)));
    }
}

/// <summary>Replays (<c>/state?at=</c>, timeline, config at a point) fold at most <see cref="BoundsApp.ReplayEventLimit"/> events here.</summary>
[Collection(BoundsCollection.Name)]
public sealed class ReplayBoundTests(BoundsApp app) : ApiTest(app)
{
    [Fact]
    public async Task a_replay_over_the_event_cap_is_a_422_problem_explaining_the_bound_and_a_smaller_one_is_answered()
    {
        var small = (await CreateNetworkAsync("small", "10.20.0.0/24")).GetProperty("id").GetGuid();
        var big = (await CreateNetworkAsync("big", "10.30.0.0/24")).GetProperty("id").GetGuid();
        await HistorySeed.AppendRenamesAsync(App.Store, big, BoundsApp.ReplayEventLimit, App.Clock.GetUtcNow()); // cap + the creation

        Assert.Equal(HttpStatusCode.OK, (await Admin.GetAsync($"/api/v1/networks/{small}/state")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Admin.GetAsync($"/api/v1/networks/{small}/timeline")).StatusCode);
        foreach (var path in new[] { "state?at=1", "state", "timeline", "reachability?at=1" })
        {
            var problem = await AssertRefusedAsync(() => Admin.GetAsync($"/api/v1/networks/{big}/{path}"), 422);
            var detail = problem.GetProperty("detail").GetString()!;
            Assert.Contains($"{BoundsApp.ReplayEventLimit + 1} events", detail);
            Assert.Contains($"at most {BoundsApp.ReplayEventLimit}", detail);
        }
    }
}
