using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Wirety.Tests.Api.Agents;
using Wirety.Tests.Api.Harness;
using Xunit.Abstractions;

namespace Wirety.Tests.Api.Peers;

/// <summary>Bulk peer operations: <c>peers:bulk</c>, <c>peers:block</c>, <c>peers:unblock</c>, <c>peers:delete</c>.</summary>
public sealed class BulkPeersTests(WiretyApp app, ITestOutputHelper output) : AgentTest(app)
{
    private static string Bulk(Guid net, string op = "bulk") => $"/api/v1/networks/{net}/peers:{op}";

    private async Task<Guid> NetworkAsync(string cidr = "10.10.0.0/24") => (await CreateNetworkAsync("corp", cidr)).GetProperty("id").GetGuid();

    private async Task<JsonElement[]> CreateManyAsync(Guid net, params object[] peers)
    {
        var response = await Admin.PostAsJsonAsync(Bulk(net), new { peers });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return [.. (await BodyAsync(response)).GetProperty("peers").EnumerateArray()];
    }

    private async Task<JsonElement[]> ListAsync(Guid net) =>
        [.. (await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{net}/peers"))).EnumerateArray()];

    private static void AssertNames(JsonElement problem, params string[] fields)
    {
        var errors = problem.GetProperty("errors");
        foreach (var field in fields) Assert.True(errors.TryGetProperty(field, out _), $"no error for {field}: {problem}");
    }

    [Fact]
    public async Task a_thousand_peers_of_mixed_kinds_are_created_in_one_request_each_with_its_one_time_secret()
    {
        var net = await NetworkAsync("10.20.0.0/16");
        var items = new List<object> { new { name = "hub", kind = "jump", endpoint = "198.18.0.1:51820", listenPort = 51820 } };
        items.AddRange(Enumerable.Range(1, 949).Select(i => (object)new { name = $"laptop-{i}", kind = "dynamic" }));
        items.AddRange(Enumerable.Range(950, 50).Select(i => (object)new { name = $"phone-{i}", kind = "static" }));
        var before = await App.EventCountAsync();

        var watch = Stopwatch.StartNew();
        var response = await Admin.PostAsJsonAsync(Bulk(net), new { peers = items });
        watch.Stop();
        output.WriteLine($"1,000 peers in one request: {watch.ElapsedMilliseconds} ms (informational)");
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var peers = (await BodyAsync(response)).GetProperty("peers").EnumerateArray().ToList();

        Assert.Equal(1000, peers.Count);
        Assert.Equal(items.Select(i => JsonSerializer.SerializeToElement(i, Json).GetProperty("name").GetString()),
            peers.Select(p => p.GetProperty("name").GetString())); // in request order
        Assert.Equal(1000, peers.Select(p => p.GetProperty("address").GetString()).Distinct().Count());
        Assert.Equal("10.20.0.1", peers[0].GetProperty("address").GetString());
        Assert.Equal("10.20.3.232", peers[^1].GetProperty("address").GetString()); // the 1,000th host
        Assert.All(peers.Take(950), p => Assert.StartsWith("wirety_enroll_", p.GetProperty("enrollmentToken").GetString()));
        Assert.All(peers.Take(950), p => Assert.False(p.TryGetProperty("config", out _)));
        Assert.All(peers.Skip(950), p =>
        {
            var config = p.GetProperty("config").GetString()!;
            Assert.Matches(@"(?m)^PrivateKey = [A-Za-z0-9+/]{43}=$", config);
            Assert.Contains($"Address = {p.GetProperty("address").GetString()}/32", config);
            Assert.False(p.TryGetProperty("enrollmentToken", out _));
        });
        // One PeerAdded per peer and one EnrollmentTokenIssued per agent-managed one, in the one commit.
        Assert.Equal(before + 1000 + 950, await App.EventCountAsync());
        Assert.Equal(1000, (await ListAsync(net)).Length);

        // The tokens work with the real agent API: the hub and a laptop enroll, and the laptop's config has the hub in it.
        var hub = await EnrollAsync(peers[0].GetProperty("enrollmentToken").GetString()!);
        var laptop = await EnrollAsync(peers[500].GetProperty("enrollmentToken").GetString()!);
        Assert.Equal(peers[500].GetProperty("id").GetGuid(), laptop.PeerId);
        Assert.Equal("10.20.1.245", laptop.Config.GetProperty("interface").GetProperty("address").GetString()!.Split('/')[0]);
        Assert.Contains(laptop.Config.GetProperty("peers").EnumerateArray(), p => p.GetProperty("publicKey").GetString() == hub.PublicKey
            && p.GetProperty("endpoint").GetString() == "198.18.0.1:51820");
    }

    [Fact]
    public async Task requested_addresses_are_kept_and_the_others_get_the_lowest_free_ones_around_them()
    {
        var net = await NetworkAsync();
        await CreatePeerAsync(net, new { name = "first", kind = "dynamic" }); // 10.10.0.1
        var peers = await CreateManyAsync(net,
            new { name = "a", kind = "dynamic" }, new { name = "b", kind = "dynamic", address = "10.10.0.3" },
            new { name = "c", kind = "static" }, new { name = "d", kind = "dynamic" });
        Assert.Equal(["10.10.0.2", "10.10.0.3", "10.10.0.4", "10.10.0.5"], peers.Select(p => p.GetProperty("address").GetString()!));
    }

    [Fact]
    public async Task a_name_used_twice_in_the_request_is_refused_naming_the_item_and_nothing_is_appended()
    {
        var net = await NetworkAsync();
        var problem = await AssertRefusedAsync(() => Admin.PostAsJsonAsync(Bulk(net), new
        {
            peers = new object[] { new { name = "a", kind = "dynamic" }, new { name = "b", kind = "static" }, new { name = "a", kind = "dynamic" } },
        }), 409);
        AssertNames(problem, "peers[2].name");
        Assert.False(problem.GetProperty("errors").TryGetProperty("peers[0].name", out _));
        Assert.Empty(await ListAsync(net));
    }

    [Fact]
    public async Task a_name_taken_in_the_network_is_refused_naming_the_item_and_nothing_is_appended()
    {
        var net = await NetworkAsync();
        await CreatePeerAsync(net, new { name = "taken", kind = "dynamic" });
        var problem = await AssertRefusedAsync(() => Admin.PostAsJsonAsync(Bulk(net), new
        {
            peers = new object[] { new { name = "fresh", kind = "dynamic" }, new { name = "taken", kind = "static" } },
        }), 409);
        AssertNames(problem, "peers[1].name");
        Assert.Single(await ListAsync(net));
    }

    [Fact]
    public async Task bad_fields_are_refused_with_every_offending_item_named()
    {
        var net = await NetworkAsync();
        await CreatePeerAsync(net, new { name = "x", kind = "dynamic" }); // 10.10.0.1
        var problem = await AssertRefusedAsync(() => Admin.PostAsJsonAsync(Bulk(net), new
        {
            peers = new object?[]
            {
                new { name = "ok", kind = "dynamic" },
                new { name = "Bad_Name", kind = "dynamic" },
                new { name = "j", kind = "jump" },
                new { name = "r1", kind = "dynamic", address = "10.10.0.1" },
                new { name = "r2", kind = "dynamic", address = "10.10.0.9" },
                new { name = "r3", kind = "dynamic", address = "10.10.0.9" },
                new { name = "n1", kind = "dynamic", additionalAllowedIps = new[] { "192.168.1.0/24" } },
                new { name = "n2", kind = "dynamic", additionalAllowedIps = new[] { "192.168.1.128/25" } },
                null,
            },
        }), 400);
        AssertNames(problem, "peers[1].name", "peers[2].endpoint", "peers[3].address", "peers[5].address", "peers[7].additionalAllowedIps", "peers[8]");
        var named = problem.GetProperty("errors").EnumerateObject().Select(e => e.Name).ToList();
        Assert.DoesNotContain("peers[0].name", named);
        Assert.DoesNotContain("peers[4].address", named);
        Assert.DoesNotContain("peers[6].additionalAllowedIps", named);
    }

    [Fact]
    public async Task a_network_too_small_for_all_of_them_refuses_the_whole_request()
    {
        var net = await NetworkAsync("192.168.7.4/30"); // two hosts
        await CreatePeerAsync(net, new { name = "one", kind = "dynamic" });
        var problem = await AssertRefusedAsync(() => Admin.PostAsJsonAsync(Bulk(net), new
        {
            peers = new object[] { new { name = "two", kind = "dynamic" }, new { name = "three", kind = "dynamic" } },
        }), 409);
        AssertNames(problem, "peers[1].address");
        Assert.Single(await ListAsync(net));
    }

    [Fact]
    public async Task an_empty_or_oversized_list_a_missing_body_or_network_is_refused()
    {
        var net = await NetworkAsync("10.30.0.0/16");
        AssertNames(await AssertRefusedAsync(() => Admin.PostAsJsonAsync(Bulk(net), new { peers = Array.Empty<object>() }), 400), "peers");
        AssertNames(await AssertRefusedAsync(() => Admin.PostAsJsonAsync(Bulk(net), new { }), 400), "peers");
        var tooMany = Enumerable.Range(0, 1001).Select(i => new { name = $"p{i}", kind = "dynamic" }).ToArray();
        AssertNames(await AssertRefusedAsync(() => Admin.PostAsJsonAsync(Bulk(net), new { peers = tooMany }), 400), "peers");
        await AssertRefusedAsync(() => Admin.PostAsync(Bulk(net), new StringContent("", System.Text.Encoding.UTF8, "application/json")), 400);
        await AssertRefusedAsync(() => Admin.PostAsJsonAsync(Bulk(Guid.NewGuid()), new { peers = new[] { new { name = "a", kind = "dynamic" } } }), 404);
    }

    [Fact]
    public async Task bulk_block_and_unblock_change_every_listed_peer_and_repeats_are_no_ops()
    {
        var net = await NetworkAsync();
        var peers = await CreateManyAsync(net, new { name = "a", kind = "dynamic" }, new { name = "b", kind = "dynamic" }, new { name = "c", kind = "static" });
        var (a, b, c) = (peers[0].GetProperty("id").GetGuid(), peers[1].GetProperty("id").GetGuid(), peers[2].GetProperty("id").GetGuid());
        Assert.Equal(HttpStatusCode.OK, (await Admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers/{a}/block", new { reason = "first" })).StatusCode);

        var before = await App.EventCountAsync();
        var blocked = await BodyAsync(await Admin.PostAsJsonAsync(Bulk(net, "block"), new { peerIds = new[] { c, a, b }, reason = "lost laptop" }));
        Assert.Equal([c, a, b], blocked.GetProperty("peers").EnumerateArray().Select(p => p.GetProperty("id").GetGuid()));
        Assert.All(blocked.GetProperty("peers").EnumerateArray(), p => Assert.True(p.GetProperty("blocked").GetBoolean()));
        Assert.Equal("first", blocked.GetProperty("peers")[1].GetProperty("blockReason").GetString()); // a was blocked already: no-op
        Assert.Equal("lost laptop", blocked.GetProperty("peers")[2].GetProperty("blockReason").GetString());
        Assert.Equal(before + 2, await App.EventCountAsync());
        Assert.All(await ListAsync(net), p => Assert.True(p.GetProperty("blocked").GetBoolean()));

        Assert.Equal(HttpStatusCode.OK, (await Admin.PostAsync($"/api/v1/networks/{net}/peers/{b}/unblock", null)).StatusCode);
        var unblocked = await BodyAsync(await Admin.PostAsJsonAsync(Bulk(net, "unblock"), new { peerIds = new[] { a, b, c } }));
        Assert.All(unblocked.GetProperty("peers").EnumerateArray(), p => Assert.False(p.GetProperty("blocked").GetBoolean()));
        Assert.Equal(before + 5, await App.EventCountAsync()); // b was unblocked already: no-op
        Assert.All(await ListAsync(net), p => Assert.False(p.GetProperty("blocked").GetBoolean()));
    }

    [Fact]
    public async Task a_bulk_block_with_one_bad_id_names_it_and_blocks_none()
    {
        var net = await NetworkAsync();
        var peers = await CreateManyAsync(net, new { name = "a", kind = "dynamic" }, new { name = "b", kind = "dynamic" });
        var (a, b) = (peers[0].GetProperty("id").GetGuid(), peers[1].GetProperty("id").GetGuid());

        AssertNames(await AssertRefusedAsync(() => Admin.PostAsJsonAsync(Bulk(net, "block"), new { peerIds = new[] { a, Guid.NewGuid(), b }, reason = "x" }), 404), "peerIds[1]");
        AssertNames(await AssertRefusedAsync(() => Admin.PostAsJsonAsync(Bulk(net, "block"), new { peerIds = new[] { a, b, a }, reason = "x" }), 400), "peerIds[2]");
        AssertNames(await AssertRefusedAsync(() => Admin.PostAsJsonAsync(Bulk(net, "block"), new { peerIds = new[] { a, Guid.Empty }, reason = "x" }), 400), "peerIds[1]");
        AssertNames(await AssertRefusedAsync(() => Admin.PostAsJsonAsync(Bulk(net, "block"), new { peerIds = new[] { a } }), 400), "reason");
        AssertNames(await AssertRefusedAsync(() => Admin.PostAsJsonAsync(Bulk(net, "block"), new { peerIds = Array.Empty<Guid>(), reason = "x" }), 400), "peerIds");
        AssertNames(await AssertRefusedAsync(() => Admin.PostAsJsonAsync(Bulk(net, "unblock"), new { peerIds = new[] { Guid.NewGuid() } }), 404), "peerIds[0]");
        await AssertRefusedAsync(() => Admin.PostAsJsonAsync(Bulk(net, "block"), new { peerIds = new[] { "not-a-guid" }, reason = "x" }), 400);
        Assert.All(await ListAsync(net), p => Assert.False(p.GetProperty("blocked").GetBoolean()));
    }

    [Fact]
    public async Task bulk_delete_removes_each_peer_as_a_single_delete_does()
    {
        var (net, _) = await NetworkWithJumpAsync(); // hub at 10.10.0.1
        var peers = await CreateManyAsync(net,
            new { name = "a", kind = "dynamic" }, new { name = "b", kind = "static" }, new { name = "keep", kind = "dynamic" });
        var a = await EnrollAsync(peers[0].GetProperty("enrollmentToken").GetString()!);
        var b = peers[1].GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.OK, (await a.Client.GetAsync("/api/v1/agent/config")).StatusCode);

        var deleted = await BodyAsync(await Admin.PostAsJsonAsync(Bulk(net, "delete"), new { peerIds = new[] { a.PeerId, b } }));
        Assert.Equal(2, deleted.GetProperty("deleted").GetInt32());
        Assert.Equal(["hub", "keep"], (await ListAsync(net)).Select(p => p.GetProperty("name").GetString()!).Order());
        // The agent's session dies with its peer, and the addresses are free again.
        await AssertProblemAsync(await a.Client.GetAsync("/api/v1/agent/config"), 401);
        var again = await CreateManyAsync(net, new { name = "a", kind = "dynamic" }, new { name = "b", kind = "dynamic" });
        Assert.Equal(["10.10.0.2", "10.10.0.3"], again.Select(p => p.GetProperty("address").GetString()!));

        var keep = peers[2].GetProperty("id").GetGuid();
        AssertNames(await AssertRefusedAsync(() => Admin.PostAsJsonAsync(Bulk(net, "delete"), new { peerIds = new[] { keep, b } }), 404), "peerIds[1]");
        Assert.Equal(4, (await ListAsync(net)).Length);
    }

    [Theory]
    [InlineData("viewer")]
    [InlineData("analyst")]
    public async Task read_only_roles_may_not_use_bulk_operations(string role)
    {
        var net = await NetworkAsync();
        var peer = (await CreatePeerAsync(net, new { name = "a", kind = "dynamic" })).GetProperty("id").GetGuid();
        var token = await BodyAsync(await Admin.PostAsJsonAsync("/api/v1/tokens", new { name = role + "-token", role }));
        var client = App.Client(token.GetProperty("token").GetString());

        await AssertRefusedAsync(() => client.PostAsJsonAsync(Bulk(net), new { peers = new[] { new { name = "b", kind = "dynamic" } } }), 403);
        await AssertRefusedAsync(() => client.PostAsJsonAsync(Bulk(net, "block"), new { peerIds = new[] { peer }, reason = "x" }), 403);
        await AssertRefusedAsync(() => client.PostAsJsonAsync(Bulk(net, "unblock"), new { peerIds = new[] { peer } }), 403);
        await AssertRefusedAsync(() => client.PostAsJsonAsync(Bulk(net, "delete"), new { peerIds = new[] { peer } }), 403);
    }
}
