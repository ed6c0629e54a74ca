using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Wirety.Tests.Api.Agents;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.History;

/// <summary>
/// A scripted history — create, add, enroll, block, detect, resolve, delete — recording at every step what
/// the live API said; afterwards, time travel to each step must say exactly the same.
/// </summary>
public sealed class TimeTravelTests(WiretyApp app) : AgentTest(app)
{
    private sealed record Step(string Name, long Sequence, DateTimeOffset Time, string Network, string Peers, string Ipam,
        IReadOnlyList<Guid> Blocked, IReadOnlyList<Guid> OpenIncidents, IReadOnlyDictionary<Guid, string> Configs);

    private sealed record Script(Guid Net, Guid Hub, Guid Laptop, Guid Desk, Guid Phone, Guid Incident, List<Step> Steps, long Deleted, DateTimeOffset DeletedAt);

    private async Task<long> LastSequenceAsync()
    {
        await using var conn = new NpgsqlConnection(App.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("select max(seq_id) from wirety.mt_events", conn);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private async Task<string> TextAsync(string url)
    {
        var response = await Admin.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{url}: {(int)response.StatusCode} {text}");
        return text;
    }

    private async Task<Step> CaptureAsync(string name, Guid net)
    {
        // Work off the request path (endpoint changes, detection) may commit while the step is read:
        // read again until nothing was appended meanwhile, so the step is one consistent point.
        for (var attempt = 0; ; attempt++)
        {
            var before = await LastSequenceAsync();
            var peers = await TextAsync($"/api/v1/networks/{net}/peers");
            var peerIds = JsonDocument.Parse(peers).RootElement.EnumerateArray().Select(p => p.GetProperty("id").GetGuid()).ToList();
            var configs = new Dictionary<Guid, string>();
            foreach (var id in peerIds) configs[id] = await TextAsync($"/api/v1/networks/{net}/peers/{id}/config");
            var blocked = JsonDocument.Parse(peers).RootElement.EnumerateArray().Where(p => p.GetProperty("blocked").GetBoolean())
                .Select(p => p.GetProperty("id").GetGuid()).ToList();
            var open = JsonDocument.Parse(await TextAsync($"/api/v1/incidents?state=open&networkId={net}")).RootElement.EnumerateArray()
                .Select(i => i.GetProperty("id").GetGuid()).ToList();
            var network = await TextAsync($"/api/v1/networks/{net}");
            var ipam = await TextAsync($"/api/v1/networks/{net}/ipam");
            var time = App.Clock.GetUtcNow();
            if (await LastSequenceAsync() != before)
            {
                Assert.True(attempt < 20, "the store never stood still long enough to capture a step");
                continue;
            }
            App.Clock.Advance(TimeSpan.FromMinutes(1)); // every step at its own minute
            return new Step(name, before, time, network, peers, ipam, blocked, open, configs);
        }
    }

    private async Task<Script> RunScriptAsync()
    {
        var steps = new List<Step>();
        App.Clock.Advance(TimeSpan.FromMinutes(1));
        var net = (await CreateNetworkAsync("corp", "10.10.0.0/24")).GetProperty("id").GetGuid();
        var hub = (await CreatePeerAsync(net, new { name = "hub", kind = "jump", endpoint = "198.18.0.1:51820", listenPort = 51820 })).GetProperty("id").GetGuid();
        steps.Add(await CaptureAsync("created", net));

        var laptopToken = await TokenForAsync(net, "laptop");
        var deskToken = await TokenForAsync(net, "desk");
        var phone = (await CreatePeerAsync(net, new { name = "phone", kind = "static" })).GetProperty("id").GetGuid();
        steps.Add(await CaptureAsync("peers added", net));

        var laptop = await EnrollAsync(laptopToken);
        var desk = await EnrollAsync(deskToken);
        await HeartbeatAsync(laptop, 51001, from: "192.0.2.1");
        await HeartbeatAsync(desk, 51002, from: "192.0.2.2");
        Assert.Equal(1, (await AgentConfigAsync(desk)).GetProperty("peers").GetArrayLength()); // desk lists laptop directly (the hub has not enrolled)
        steps.Add(await CaptureAsync("enrolled and meshed", net));

        Assert.Equal(HttpStatusCode.OK, (await Admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers/{phone}/block", new { reason = "lost device" })).StatusCode);
        steps.Add(await CaptureAsync("phone blocked", net));

        await HeartbeatAsync(laptop, 51001, from: "198.51.100.7"); // a stolen copy
        await HeartbeatAsync(laptop, 51001, from: "192.0.2.1");
        var incident = Assert.Single((await BodyAsync(await Admin.GetAsync($"/api/v1/incidents?state=open&peerId={laptop.PeerId}"))).EnumerateArray())
            .GetProperty("id").GetGuid();
        steps.Add(await CaptureAsync("incident detected", net));

        Assert.Equal(HttpStatusCode.OK, (await Admin.PostAsJsonAsync($"/api/v1/incidents/{incident}/resolve", new { note = "old copy wiped", unblock = true })).StatusCode);
        await EventuallyAsync(async () => (await AgentConfigAsync(desk)).GetProperty("peers").GetArrayLength() == 1, "laptop back in desk's config");
        steps.Add(await CaptureAsync("incident resolved", net));

        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"/api/v1/networks/{net}?force=true")).StatusCode);
        var deleted = await LastSequenceAsync();
        var deletedAt = App.Clock.GetUtcNow();
        return new Script(net, hub, laptop.PeerId, desk.PeerId, phone, incident, steps, deleted, deletedAt);
    }

    private static string Raw(JsonElement e) => e.GetRawText();

    [Fact]
    public async Task state_and_configs_at_every_step_of_a_scripted_history_are_what_the_live_api_said_then()
    {
        var script = await RunScriptAsync();
        foreach (var step in script.Steps)
        {
            foreach (var at in new[] { step.Sequence.ToString(), Uri.EscapeDataString(step.Time.ToString("O")) })
            {
                var state = await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{script.Net}/state?at={at}"));
                var why = $"step '{step.Name}' at {at}";
                Assert.True(step.Network == Raw(state.GetProperty("network")), why + "\n" + step.Network + "\n" + Raw(state.GetProperty("network")));
                Assert.True(step.Peers == Raw(state.GetProperty("peers")), why + "\n" + step.Peers + "\n" + Raw(state.GetProperty("peers")));
                Assert.True(step.Ipam == Raw(state.GetProperty("ipam")), why);
                Assert.Equal(step.Blocked, state.GetProperty("blocked").EnumerateArray().Select(b => b.GetGuid()));
                Assert.Equal(step.OpenIncidents, state.GetProperty("openIncidents").EnumerateArray().Select(i => i.GetProperty("id").GetGuid()));
                Assert.True(state.GetProperty("at").GetProperty("sequence").GetInt64() <= step.Sequence, why);

                foreach (var (peer, config) in step.Configs)
                    Assert.Equal(config, await TextAsync($"/api/v1/networks/{script.Net}/peers/{peer}/config?at={at}"));
            }
        }

        // What each step shows, in words: the script did what it says.
        Assert.Equal([script.Phone], script.Steps[3].Blocked);
        Assert.Equal([script.Laptop, script.Phone], script.Steps[4].Blocked.Order());
        Assert.Equal([script.Incident], script.Steps[4].OpenIncidents);
        Assert.Equal([script.Phone], script.Steps[5].Blocked);
        Assert.Empty(script.Steps[5].OpenIncidents);

        // Before it was created and after it was deleted, the network did not exist.
        await AssertProblemAsync(await Admin.GetAsync($"/api/v1/networks/{script.Net}/state?at=0"), 404);
        await AssertProblemAsync(await Admin.GetAsync($"/api/v1/networks/{script.Net}/state?at=2000-01-01T00:00:00Z"), 404);
        await AssertProblemAsync(await Admin.GetAsync($"/api/v1/networks/{script.Net}/state?at={script.Deleted}"), 404);
        await AssertProblemAsync(await Admin.GetAsync($"/api/v1/networks/{script.Net}/state"), 404);
        // A peer that did not exist yet has no config then.
        await AssertProblemAsync(await Admin.GetAsync($"/api/v1/networks/{script.Net}/peers/{script.Phone}/config?at={script.Steps[0].Sequence}"), 404);
    }

    [Fact]
    public async Task config_diff_between_two_points_is_a_unified_diff_and_empty_when_nothing_changed()
    {
        var script = await RunScriptAsync();
        var (enrolled, blocked) = (script.Steps[2], script.Steps[3]);
        var response = await Admin.GetAsync($"/api/v1/networks/{script.Net}/peers/{script.Hub}/config/diff?from={enrolled.Sequence}&to={blocked.Sequence}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var diff = await response.Content.ReadAsStringAsync();
        Assert.StartsWith($"--- config@{enrolled.Sequence}\n+++ config@{blocked.Sequence}\n@@ ", diff);
        Assert.Contains("\n-# phone (static)\n", diff);
        Assert.DoesNotContain(diff.Split('\n').Skip(2), line => line.StartsWith('+')); // blocking only removes

        // By time as well, and back again.
        var back = await TextAsync($"/api/v1/networks/{script.Net}/peers/{script.Hub}/config/diff?from={Uri.EscapeDataString(blocked.Time.ToString("O"))}&to={Uri.EscapeDataString(enrolled.Time.ToString("O"))}");
        Assert.Contains("\n+# phone (static)\n", back);

        Assert.Equal("", await TextAsync($"/api/v1/networks/{script.Net}/peers/{script.Hub}/config/diff?from={blocked.Sequence}&to={blocked.Sequence}"));
        // The phone appears (diff against nothing) between the first two steps.
        var created = await TextAsync($"/api/v1/networks/{script.Net}/peers/{script.Phone}/config/diff?from={script.Steps[0].Sequence}&to={script.Steps[1].Sequence}");
        Assert.Contains("@@ -0,0 +1,", created);
    }

    [Theory]
    [InlineData("/state?at=yesterday", "at")]
    [InlineData("/state?at=-5", "at")]
    [InlineData("/state?at=99999999999999999999999", "at")]
    [InlineData("/peers/{peer}/config?at=", "at")]
    [InlineData("/peers/{peer}/config?at=soon", "at")]
    [InlineData("/peers/{peer}/config/diff?to=3", "from")]
    [InlineData("/peers/{peer}/config/diff?from=3", "to")]
    [InlineData("/peers/{peer}/config/diff?from=x&to=3", "from")]
    public async Task bad_points_are_refused(string path, string field)
    {
        var net = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        var peer = (await CreatePeerAsync(net, new { name = "phone", kind = "static" })).GetProperty("id").GetGuid();
        var problem = await AssertRefusedAsync(() => Admin.GetAsync($"/api/v1/networks/{net}" + path.Replace("{peer}", peer.ToString())), 400);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task unknown_networks_and_peers_are_404()
    {
        var net = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        var nobody = Guid.NewGuid();
        await AssertRefusedAsync(() => Admin.GetAsync($"/api/v1/networks/{nobody}/state"), 404);
        await AssertRefusedAsync(() => Admin.GetAsync($"/api/v1/networks/{nobody}/timeline"), 404);
        await AssertRefusedAsync(() => Admin.GetAsync($"/api/v1/networks/{net}/peers/{nobody}/config?at=1"), 404);
        await AssertRefusedAsync(() => Admin.GetAsync($"/api/v1/networks/{net}/peers/{nobody}/config/diff?from=1&to=2"), 404);
    }

    [Fact]
    public async Task the_timeline_tells_who_did_what_to_what_in_order_page_by_page()
    {
        var script = await RunScriptAsync();
        var items = new List<JsonElement>();
        long? after = 0;
        while (after is not null)
        {
            var page = await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{script.Net}/timeline?limit=3&after={after}"));
            items.AddRange(page.GetProperty("items").EnumerateArray());
            after = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").GetInt64();
        }
        var sequences = items.Select(i => i.GetProperty("sequence").GetInt64()).ToList();
        Assert.Equal(sequences.Order().Distinct(), sequences);
        var summaries = items.Select(i => i.GetProperty("summary").GetString()!).ToList();
        Assert.Equal("bootstrap-admin created network corp (10.10.0.0/24)", summaries[0]);
        Assert.Contains("bootstrap-admin added jump peer hub at 10.10.0.1", summaries);
        Assert.Contains(summaries, s => s.StartsWith("peer laptop enrolled from host host"));
        Assert.Contains("bootstrap-admin blocked peer phone: lost device", summaries);
        Assert.Contains(summaries, s => s.StartsWith("detection opened a session conflict incident on peer laptop: "));
        Assert.Contains("detection blocked peer laptop: " + items.Single(i => i.GetProperty("type").GetString() == "PeerBlocked"
            && i.GetProperty("subject").GetProperty("id").GetGuid() == script.Laptop).GetProperty("summary").GetString()!["detection blocked peer laptop: ".Length..], summaries);
        Assert.Contains("bootstrap-admin resolved the incident on peer laptop and unblocked it: old copy wiped", summaries);
        Assert.Equal("bootstrap-admin deleted network corp and its peers", summaries[^1]);
        Assert.DoesNotContain(items, i => i.GetProperty("type").GetString() == "HeartbeatReceived");

        var blocked = items.Single(i => i.GetProperty("summary").GetString() == "bootstrap-admin blocked peer phone: lost device");
        Assert.Equal("peer", blocked.GetProperty("subject").GetProperty("kind").GetString());
        Assert.Equal(script.Phone, blocked.GetProperty("subject").GetProperty("id").GetGuid());
        Assert.Equal("phone", blocked.GetProperty("subject").GetProperty("name").GetString());
        Assert.Equal("token", blocked.GetProperty("actor").GetProperty("kind").GetString());
        Assert.True(script.Steps[3].Time.AddMinutes(-1) < blocked.GetProperty("timestamp").GetDateTimeOffset());
        var detected = items.Single(i => i.GetProperty("type").GetString() == "IncidentDetected");
        Assert.Equal("incident", detected.GetProperty("subject").GetProperty("kind").GetString());
        Assert.Equal(script.Incident, detected.GetProperty("subject").GetProperty("id").GetGuid());

        await AssertRefusedAsync(() => Admin.GetAsync($"/api/v1/networks/{script.Net}/timeline?limit=0"), 400);
        await AssertRefusedAsync(() => Admin.GetAsync($"/api/v1/networks/{script.Net}/timeline?limit=501"), 400);
        await AssertRefusedAsync(() => Admin.GetAsync($"/api/v1/networks/{script.Net}/timeline?after=x"), 400);
    }
}
