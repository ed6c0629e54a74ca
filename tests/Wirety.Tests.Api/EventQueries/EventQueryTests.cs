using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Wirety.Tests.Api.Agents;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.EventQueries;

public sealed class EventQueryTests(WiretyApp app) : AgentTest(app)
{
    private async Task<JsonElement> PageAsync(string query)
    {
        var response = await Admin.GetAsync("/api/v1/events" + query);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await BodyAsync(response);
    }

    private static List<JsonElement> Items(JsonElement page) => page.GetProperty("items").EnumerateArray().ToList();
    private static List<string> Types(JsonElement page) => Items(page).Select(i => i.GetProperty("type").GetString()!).ToList();

    /// <summary>Every item of every page, following <c>next</c> until it is null.</summary>
    private async Task<List<JsonElement>> AllPagesAsync(string filter, int limit)
    {
        var all = new List<JsonElement>();
        long? after = 0;
        for (var pages = 0; after is not null; pages++)
        {
            Assert.True(pages < 1000, "pagination does not end");
            var page = await PageAsync($"?limit={limit}&after={after}{filter}");
            all.AddRange(Items(page));
            after = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").GetInt64();
        }
        return all;
    }

    [Fact]
    public async Task events_come_in_global_order_with_type_actor_and_time_and_without_hash_fields()
    {
        var net = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        App.Clock.Advance(TimeSpan.FromMinutes(5));
        await CreatePeerAsync(net, new { name = "laptop", kind = "dynamic" }); // EnrollmentTokenIssued carries a tokenHash
        await Admin.PostAsJsonAsync("/api/v1/tokens", new { name = "ci", role = "analyst" });

        var response = await Admin.GetAsync("/api/v1/events");
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("hash", text, StringComparison.OrdinalIgnoreCase);
        var page = JsonDocument.Parse(text).RootElement;
        Assert.Equal(["ApiTokenIssued", "NetworkCreated", "PeerAdded", "EnrollmentTokenIssued", "ApiTokenIssued"], Types(page));
        var sequences = Items(page).Select(i => i.GetProperty("sequence").GetInt64()).ToList();
        Assert.Equal(sequences.Order(), sequences);
        Assert.Equal(JsonValueKind.Null, page.GetProperty("next").ValueKind);

        var created = Items(page)[1];
        Assert.Equal(net, created.GetProperty("streamId").GetGuid());
        Assert.Equal("corp", created.GetProperty("data").GetProperty("name").GetString());
        var actor = created.GetProperty("actor");
        Assert.Equal("token", actor.GetProperty("kind").GetString());
        Assert.Equal("bootstrap-admin", actor.GetProperty("name").GetString());
        Assert.Equal("system", Items(page)[0].GetProperty("actor").GetProperty("kind").GetString());
        // The time is the server's decision time (the injected clock), not the database's.
        var peerAddedAt = Items(page)[2].GetProperty("timestamp").GetDateTimeOffset();
        Assert.True(peerAddedAt - created.GetProperty("timestamp").GetDateTimeOffset() >= TimeSpan.FromMinutes(5));
        Assert.Equal("analyst", Items(page)[4].GetProperty("data").GetProperty("role").GetString());
    }

    [Fact]
    public async Task filters_select_by_network_peer_type_and_time()
    {
        var (net, jump) = await NetworkWithJumpAsync();
        var other = (await CreateNetworkAsync("lab", "10.20.0.0/24")).GetProperty("id").GetGuid();
        await CreatePeerAsync(other, new { name = "far", kind = "static" });
        var laptop = await EnrollAsync(await TokenForAsync(net, "laptop"));
        App.Clock.Advance(TimeSpan.FromHours(1));
        var afterHour = App.Clock.GetUtcNow();
        await HeartbeatAsync(laptop, 51001, ["198.18.0.11:51001"]);
        Assert.Equal(HttpStatusCode.OK, (await Admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers/{laptop.PeerId}/block", new { reason = "lost" })).StatusCode);

        var ofNet = Items(await PageAsync($"?networkId={net}"));
        Assert.NotEmpty(ofNet);
        Assert.All(ofNet, e => Assert.Equal(net, e.GetProperty("data").GetProperty("networkId").GetGuid()));
        // The peer's heartbeats (its own stream) belong to its network too.
        Assert.Contains(ofNet, e => e.GetProperty("type").GetString() == "HeartbeatReceived");
        Assert.DoesNotContain(Items(await PageAsync($"?networkId={other}")), e => e.GetProperty("data").GetProperty("networkId").GetGuid() == net);

        // EndpointChanged follows the heartbeat off the request path, so it may or may not be there yet.
        var ofPeer = Types(await PageAsync($"?peerId={laptop.PeerId}")).Where(t => t != "EndpointChanged");
        Assert.Equal(["PeerAdded", "EnrollmentTokenIssued", "PeerEnrolled", "HeartbeatReceived", "PeerBlocked"], ofPeer);

        Assert.Equal(["NetworkCreated", "NetworkCreated"], Types(await PageAsync("?type=NetworkCreated")));
        Assert.Equal(["PeerEnrolled", "PeerBlocked"], Types(await PageAsync("?type=PeerBlocked,PeerEnrolled")));
        Assert.Equal(["PeerEnrolled", "PeerBlocked"], Types(await PageAsync("?type=PeerBlocked&type=PeerEnrolled")));

        var recent = Types(await PageAsync($"?from={Uri.EscapeDataString(afterHour.ToString("O"))}")).Where(t => t != "EndpointChanged");
        Assert.Equal(["HeartbeatReceived", "PeerBlocked"], recent);
        var early = Types(await PageAsync($"?to={Uri.EscapeDataString(afterHour.AddSeconds(-1).ToString("O"))}&networkId={net}"));
        Assert.DoesNotContain("PeerBlocked", early);
        Assert.Contains("PeerEnrolled", early);
        Assert.Equal(["PeerBlocked"], Types(await PageAsync($"?from={afterHour:yyyy-MM-ddTHH:mm:ss.fffffffZ}&type=PeerBlocked&peerId={laptop.PeerId}&networkId={net}")));
        _ = jump;
    }

    [Fact]
    public async Task archived_events_are_left_out_unless_asked_for()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var laptop = await EnrollAsync(await TokenForAsync(net, "laptop"));
        await HeartbeatAsync(laptop, 51001);
        // Retention marks old heartbeats archived (Marten's is_archived); simulate that here.
        await using (var conn = new NpgsqlConnection(App.ConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("update wirety.mt_events set is_archived = true where type = 'heartbeat_received'", conn);
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
        }
        Assert.DoesNotContain("HeartbeatReceived", Types(await PageAsync($"?peerId={laptop.PeerId}")));
        Assert.Contains("HeartbeatReceived", Types(await PageAsync($"?peerId={laptop.PeerId}&includeArchived=true")));
    }

    [Fact]
    public async Task keyset_pages_cover_every_event_exactly_once()
    {
        var net = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        for (var i = 0; i < 7; i++) await CreatePeerAsync(net, new { name = $"p{i}", kind = "static" });
        var all = Items(await PageAsync("?limit=1000"));
        Assert.Equal(9, all.Count);

        var paged = await AllPagesAsync("", limit: 2);
        Assert.Equal(all.Select(e => e.GetProperty("sequence").GetInt64()), paged.Select(e => e.GetProperty("sequence").GetInt64()));
        var filtered = await AllPagesAsync("&type=PeerAdded", limit: 3);
        Assert.Equal(7, filtered.Count);
        // A full last page says there may be more; the page after it is empty and ends the walk.
        var exact = await PageAsync("?limit=9");
        Assert.Equal(9, Items(exact).Count);
        Assert.Equal(JsonValueKind.Null, exact.GetProperty("next").ValueKind);
        var short1 = await PageAsync("?limit=8");
        Assert.Equal(Items(short1)[7].GetProperty("sequence").GetInt64(), short1.GetProperty("next").GetInt64());
    }

    [Theory]
    [InlineData("?type=PeerExploded", "type")]
    [InlineData("?type=peer_added", "type")]
    [InlineData("?from=2026-05-02T00:00:00Z&to=2026-05-01T00:00:00Z", "from")]
    [InlineData("?networkId=not-a-guid", "networkId")]
    [InlineData("?peerId=123", "peerId")]
    [InlineData("?from=yesterday", "from")]
    [InlineData("?to=2026-13-01T00:00:00Z", "to")]
    [InlineData("?after=-1", "after")]
    [InlineData("?after=abc", "after")]
    [InlineData("?limit=0", "limit")]
    [InlineData("?limit=1001", "limit")]
    [InlineData("?includeArchived=maybe", "includeArchived")]
    [InlineData("?limit=5&limit=6", "limit")]
    public async Task bad_filters_are_refused_with_the_parameter_named(string query, string field)
    {
        var problem = await AssertRefusedAsync(() => Admin.GetAsync("/api/v1/events" + query), 400);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        var ndjson = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events" + query);
        ndjson.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-ndjson"));
        await AssertProblemAsync(await Admin.SendAsync(ndjson), 400);
    }

    [Fact]
    public async Task ndjson_streams_the_whole_matching_range_one_object_per_line()
    {
        var net = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        for (var i = 0; i < 5; i++) await CreatePeerAsync(net, new { name = $"p{i}", kind = "dynamic" });
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/events?networkId={net}&limit=2");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-ndjson"));
        var response = await Admin.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("hash", text, StringComparison.OrdinalIgnoreCase);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(11, lines.Length); // NetworkCreated + 5 × (PeerAdded, EnrollmentTokenIssued); limit does not apply
        var items = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(Items(await PageAsync($"?networkId={net}")).Select(e => e.GetProperty("sequence").GetInt64()),
            items.Select(e => e.GetProperty("sequence").GetInt64()));
        Assert.All(items, i => Assert.True(i.TryGetProperty("streamId", out _) && i.TryGetProperty("actor", out _) && i.TryGetProperty("data", out _)));
    }

    [Fact]
    public async Task an_append_still_in_flight_holds_the_page_back_so_no_reader_skips_it()
    {
        var net = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        var first = Items(await PageAsync(""));
        var lastSeen = first[^1].GetProperty("sequence").GetInt64();

        // A writer takes the next sequence number and is slow to commit, like any append in flight.
        await using var slow = new NpgsqlConnection(App.ConnectionString);
        await slow.OpenAsync();
        await using var tx = await slow.BeginTransactionAsync();
        long slowSeq;
        await using (var cmd = new NpgsqlCommand("select nextval('wirety.mt_events_sequence')", slow, tx))
            slowSeq = (long)(await cmd.ExecuteScalarAsync())!;

        // Meanwhile later appends commit.
        await CreatePeerAsync(net, new { name = "later", kind = "static" });
        var held = await PageAsync($"?after={lastSeen}");
        Assert.Empty(Items(held));
        Assert.Equal(lastSeen, held.GetProperty("next").GetInt64()); // "come back from here"
        var heldRequest = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/events?after={lastSeen}");
        heldRequest.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-ndjson"));
        Assert.Equal("", await (await Admin.SendAsync(heldRequest)).Content.ReadAsStringAsync());

        // The slow writer commits its event under the number it took.
        await using (var cmd = new NpgsqlCommand(
            """
            insert into wirety.mt_events (seq_id, id, stream_id, version, data, type, timestamp, tenant_id, mt_dotnet_type, is_archived)
            values (@seq, gen_random_uuid(), @stream, 100000, @data::jsonb, 'network_updated', now(), '*DEFAULT*',
                    'Wirety.Events.Networks.NetworkUpdated, Wirety.Events', false)
            """, slow, tx))
        {
            cmd.Parameters.AddWithValue("seq", slowSeq);
            cmd.Parameters.AddWithValue("stream", net);
            cmd.Parameters.AddWithValue("data", JsonSerializer.Serialize(new
            {
                networkId = net, name = "slow", domain = (string?)null, dns = Array.Empty<string>(), mtu = (int?)null,
                actor = new { tokenId = Guid.Empty, name = "system" }, at = App.Clock.GetUtcNow(),
            }));
            await cmd.ExecuteNonQueryAsync();
        }
        await tx.CommitAsync();

        var resumed = Items(await PageAsync($"?after={lastSeen}"));
        Assert.Equal(["NetworkUpdated", "PeerAdded"], resumed.Select(e => e.GetProperty("type").GetString()));
        Assert.Equal(slowSeq, resumed[0].GetProperty("sequence").GetInt64());
    }

    [Fact]
    public async Task a_number_taken_by_an_aborted_append_stops_holding_reads_back_once_settled()
    {
        var net = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        var lastSeen = Items(await PageAsync(""))[^1].GetProperty("sequence").GetInt64();
        await using (var aborted = new NpgsqlConnection(App.ConnectionString))
        {
            await aborted.OpenAsync();
            await using var tx = await aborted.BeginTransactionAsync();
            await using var cmd = new NpgsqlCommand("select nextval('wirety.mt_events_sequence')", aborted, tx);
            await cmd.ExecuteScalarAsync();
            await tx.RollbackAsync();
        }
        await CreatePeerAsync(net, new { name = "later", kind = "static" });
        Assert.Empty(Items(await PageAsync($"?after={lastSeen}")));
        // Settling takes a few seconds of real time (WIRETY_EVENT_SETTLE_MS, default 3000) from when the hole was first seen.
        await EventuallyAsync(async () => Items(await PageAsync($"?after={lastSeen}")).Count == 1, "the hole settled");
    }
}
