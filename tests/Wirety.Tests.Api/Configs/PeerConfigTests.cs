using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Marten;
using Wirety.Projections.Configs;
using Wirety.Projections.Networks;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Configs;

public sealed class PeerConfigTests(WiretyApp app) : ApiTest(app)
{
    private async Task<(Guid Net, Guid Jump, Guid Phone, Guid Tablet)> MeshAsync()
    {
        var net = (await CreateNetworkAsync("corp", "10.10.0.0/24", new { dns = new[] { "10.10.0.1" }, domain = "corp.internal" })).GetProperty("id").GetGuid();
        var jump = (await CreatePeerAsync(net, new { name = "hub", kind = "jump", endpoint = "vpn.example.com:51820", listenPort = 51820 })).GetProperty("id").GetGuid();
        var phone = (await CreatePeerAsync(net, new { name = "phone", kind = "static" })).GetProperty("id").GetGuid();
        var tablet = (await CreatePeerAsync(net, new { name = "tablet", kind = "static", additionalAllowedIps = new[] { "192.168.9.0/24" } })).GetProperty("id").GetGuid();
        return (net, jump, phone, tablet);
    }

    [Fact]
    public async Task the_config_is_wg_quick_text_without_a_private_key_and_with_a_strong_etag()
    {
        var (net, jump, _, _) = await MeshAsync();
        var response = await Admin.GetAsync($"/api/v1/networks/{net}/peers/{jump}/config");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var etag = response.Headers.ETag;
        Assert.NotNull(etag);
        Assert.False(etag.IsWeak);

        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("[Interface]", text);
        Assert.Contains("Address = 10.10.0.1/32", text);
        Assert.Contains("ListenPort = 51820", text);
        Assert.Contains("DNS = 10.10.0.1, corp.internal", text);
        Assert.DoesNotMatch(@"(?m)^PrivateKey", text);
        Assert.Matches(@"(?m)^# PrivateKey", text);
        // The jump lists both static peers with their /32 (and the tablet's routes).
        Assert.Contains("AllowedIPs = 10.10.0.2/32", text);
        Assert.Contains("AllowedIPs = 10.10.0.3/32, 192.168.9.0/24", text);
    }

    [Fact]
    public async Task a_matching_if_none_match_answers_304_and_a_change_gives_a_new_etag()
    {
        var (net, jump, phone, _) = await MeshAsync();
        var url = $"/api/v1/networks/{net}/peers/{jump}/config";
        var first = await Admin.GetAsync(url);
        var etag = first.Headers.ETag!;

        var conditional = new HttpRequestMessage(HttpMethod.Get, url);
        conditional.Headers.IfNoneMatch.Add(etag);
        var notModified = await Admin.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(etag, notModified.Headers.ETag);

        // Blocking the phone removes it from the jump's config: new text, new ETag.
        await Admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers/{phone}/block", new { reason = "stolen" });
        var again = new HttpRequestMessage(HttpMethod.Get, url);
        again.Headers.IfNoneMatch.Add(etag);
        var changed = await Admin.SendAsync(again);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.NotEqual(etag, changed.Headers.ETag);
        Assert.DoesNotContain("10.10.0.2/32", await changed.Content.ReadAsStringAsync());

        // The blocked peer's own config lists no peers.
        var own = await (await Admin.GetAsync($"/api/v1/networks/{net}/peers/{phone}/config")).Content.ReadAsStringAsync();
        Assert.DoesNotContain("[Peer]", own);

        // Unblocking restores the original config byte for byte, so the original ETag matches again.
        await Admin.PostAsync($"/api/v1/networks/{net}/peers/{phone}/unblock", null);
        var restored = new HttpRequestMessage(HttpMethod.Get, url);
        restored.Headers.IfNoneMatch.Add(etag);
        Assert.Equal(HttpStatusCode.NotModified, (await Admin.SendAsync(restored)).StatusCode);
    }

    [Fact]
    public async Task an_etag_hit_is_answered_without_a_database_round_trip()
    {
        var (net, jump, _, _) = await MeshAsync();
        var url = $"/api/v1/networks/{net}/peers/{jump}/config";
        var etag = (await Admin.GetAsync(url)).Headers.ETag!; // warms the config and token caches

        var before = App.DatabaseCommands.Count;
        for (var i = 0; i < 5; i++)
        {
            var conditional = new HttpRequestMessage(HttpMethod.Get, url);
            conditional.Headers.IfNoneMatch.Add(etag);
            Assert.Equal(HttpStatusCode.NotModified, (await Admin.SendAsync(conditional)).StatusCode);
        }
        Assert.Equal(before, App.DatabaseCommands.Count);

        // The counter does see reads: after a write to the network the next read goes to PostgreSQL.
        await Admin.PatchAsJsonAsync($"/api/v1/networks/{net}", new { mtu = 1400 });
        var afterWrite = App.DatabaseCommands.Count;
        Assert.Equal(HttpStatusCode.OK, (await Admin.GetAsync(url)).StatusCode);
        Assert.True(App.DatabaseCommands.Count > afterWrite);
    }

    [Fact]
    public async Task the_projected_config_equals_a_fresh_fold_of_the_event_history()
    {
        var (net, jump, phone, tablet) = await MeshAsync();
        await Admin.PatchAsJsonAsync($"/api/v1/networks/{net}", new { mtu = 1380 });
        await Admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers/{tablet}/block", new { reason = "audit" });

        await using var session = App.Store.QuerySession();
        var events = await session.Events.FetchStreamAsync(net);
        var replayed = NetworkEvolution.Evolve(null, events.Select(e => e.Data))!;
        foreach (var peer in new[] { jump, phone, tablet })
        {
            var served = await Admin.GetAsync($"/api/v1/networks/{net}/peers/{peer}/config");
            var expected = WgQuickRenderer.Render(ConfigBuilder.Build(replayed, peer));
            Assert.Equal(expected, await served.Content.ReadAsStringAsync());
            Assert.Equal(ConfigETag.Compute(expected), served.Headers.ETag!.ToString());
        }
    }

    [Fact]
    public async Task configs_of_deleted_peers_and_networks_are_gone()
    {
        var (net, jump, phone, _) = await MeshAsync();
        await Admin.DeleteAsync($"/api/v1/networks/{net}/peers/{phone}");
        await AssertProblemAsync(await Admin.GetAsync($"/api/v1/networks/{net}/peers/{phone}/config"), 404);
        Assert.DoesNotContain("10.10.0.2/32", await (await Admin.GetAsync($"/api/v1/networks/{net}/peers/{jump}/config")).Content.ReadAsStringAsync());
        await Admin.DeleteAsync($"/api/v1/networks/{net}?force=true");
        await AssertProblemAsync(await Admin.GetAsync($"/api/v1/networks/{net}/peers/{jump}/config"), 404);
    }
}
