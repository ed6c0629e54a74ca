using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Marten;
using Wirety.Events.Networks;
using Wirety.Events.Peers;
using Wirety.Server.Peers;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Agents;

/// <summary>
/// <c>POST /api/v1/agent/rotate-key</c> and the per-network rotation interval, over real HTTP against PostgreSQL,
/// with agents enrolled through the real enrollment API.
/// </summary>
public sealed class RotateKeyTests(WiretyApp app) : AgentTest(app)
{
    private static Task<HttpResponseMessage> RotateAsync(Enrolled agent, string? publicKey) =>
        agent.Client.PostAsJsonAsync("/api/v1/agent/rotate-key", new { publicKey });

    private static IEnumerable<string> KeysIn(JsonElement config) =>
        config.GetProperty("peers").EnumerateArray().Select(p => p.GetProperty("publicKey").GetString()!);

    private async Task<List<PeerKeyRotated>> RotationsAsync(Guid net)
    {
        await using var session = App.Store.QuerySession();
        return (await session.Events.FetchStreamAsync(net)).Select(e => e.Data).OfType<PeerKeyRotated>().ToList();
    }

    [Fact]
    public async Task a_rotated_key_replaces_the_old_one_in_every_config_that_lists_the_peer()
    {
        var (net, a, b) = await MeshedPairAsync();
        Assert.Contains(a.PublicKey, KeysIn(await AgentConfigAsync(b)));
        var next = WireGuardKeyPair.Generate();

        var response = await RotateAsync(a, next.PublicKey);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var own = (await BodyAsync(response)).GetProperty("config");
        // The answer is a's config as the config endpoint serves it: b is still there, by its own key.
        var served = await AgentConfigAsync(a);
        Assert.Equal(served.GetProperty("version").GetString(), own.GetProperty("version").GetString());
        Assert.Equal(KeysIn(served), KeysIn(own));
        Assert.Contains(b.PublicKey, KeysIn(own));

        var seenByB = KeysIn(await AgentConfigAsync(b)).ToList();
        Assert.Contains(next.PublicKey, seenByB);
        Assert.DoesNotContain(a.PublicKey, seenByB);
        var peer = await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{net}/peers/{a.PeerId}"));
        Assert.Equal(next.PublicKey, peer.GetProperty("publicKey").GetString());

        // Recorded with the agent's session as actor, public halves only; nothing secret reaches the event query.
        var rotated = Assert.Single(await RotationsAsync(net));
        Assert.Equal((a.PeerId, a.PublicKey, next.PublicKey), (rotated.PeerId, rotated.PreviousPublicKey, rotated.PublicKey));
        Assert.Equal("agent:host", rotated.Actor.Name);
        Assert.Equal(rotated.SessionId, rotated.Actor.TokenId);
        var events = await Admin.GetStringAsync("/api/v1/events?type=PeerKeyRotated");
        Assert.Contains(next.PublicKey, events);
        Assert.DoesNotContain(next.PrivateKey, events);
        Assert.DoesNotContain(a.SessionToken, events);
        Assert.DoesNotContain(await App.AllStoredTextAsync(), row => row.Contains(next.PrivateKey) || row.Contains(a.SessionToken));

        // The session stays valid under the new key, and a repeat (a retry whose answer was lost) is a no-op.
        Assert.Equal(HttpStatusCode.OK, (await a.Client.GetAsync("/api/v1/agent/config")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await RotateAsync(a, next.PublicKey)).StatusCode);
        Assert.Single(await RotationsAsync(net));
    }

    [Fact]
    public async Task the_other_agents_are_told_over_their_socket_that_their_config_changed()
    {
        var (_, a, b) = await MeshedPairAsync();
        using var socket = await App.ConnectAgentSocketAsync(b.SessionToken);
        var before = (await AgentConfigAsync(b)).GetProperty("version").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await RotateAsync(a, WireGuardKeyPair.Generate().PublicKey)).StatusCode);

        var version = (await AgentConfigAsync(b)).GetProperty("version").GetString()!;
        Assert.True(long.Parse(version) > long.Parse(before), $"b's config version stayed {before}");
        // The push for the rotation arrives; pushes for commits from before the socket opened may still be ahead of it.
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            var message = JsonDocument.Parse(buffer.AsMemory(0, result.Count)).RootElement;
            Assert.Equal("config-changed", message.GetProperty("type").GetString());
            var pushed = message.GetProperty("version").GetString()!;
            if (pushed == version) break;
            Assert.True(long.Parse(pushed) < long.Parse(version), $"pushed {pushed} after the rotation ({version})");
        }
    }

    [Fact]
    public async Task a_key_held_by_another_peer_is_refused_and_a_released_key_can_be_claimed_again()
    {
        var (net, a, b) = await MeshedPairAsync();
        await AssertRefusedAsync(() => RotateAsync(b, a.PublicKey), 409);
        // Another spelling of the same 32 bytes (the last character's two low bits are not part of the key) is the same key.
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        var respelled = a.PublicKey[..42] + alphabet[alphabet.IndexOf(a.PublicKey[42]) ^ 1] + "=";
        Assert.NotEqual(a.PublicKey, respelled);
        Assert.Equal(Convert.FromBase64String(a.PublicKey), Convert.FromBase64String(respelled));
        await AssertRefusedAsync(() => RotateAsync(b, respelled), 409);

        // Decision: a rotated-away key is released, like a deleted peer's: whoever has its private half may hold it again.
        var next = WireGuardKeyPair.Generate().PublicKey;
        Assert.Equal(HttpStatusCode.OK, (await RotateAsync(a, next)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await RotateAsync(b, a.PublicKey)).StatusCode);
        await AssertRefusedAsync(() => RotateAsync(a, a.PublicKey), 409);
        Assert.Equal(2, (await RotationsAsync(net)).Count);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("{\"publicKey\":null}")]
    [InlineData("{\"publicKey\":42}")]
    [InlineData("{\"publicKey\":\"not-a-key\"}")]
    [InlineData("{\"publicKey\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}")]
    [InlineData("{\"publicKey\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}")]
    [InlineData("{\"publicKey\":\"")]
    public async Task a_bad_body_is_a_400_problem_and_appends_nothing(string body)
    {
        var (_, a, _) = await MeshedPairAsync();
        await AssertRefusedAsync(() => a.Client.PostAsync("/api/v1/agent/rotate-key", new StringContent(body, Encoding.UTF8, "application/json")), 400);
    }

    [Fact]
    public async Task without_a_live_session_or_while_blocked_the_key_cannot_be_rotated()
    {
        var (net, a, b) = await MeshedPairAsync();
        var key = WireGuardKeyPair.Generate().PublicKey;
        await AssertRefusedAsync(() => App.Client(null).PostAsJsonAsync("/api/v1/agent/rotate-key", new { publicKey = key }), 401);
        // An admin API token is not an agent session.
        await AssertRefusedAsync(() => Admin.PostAsJsonAsync("/api/v1/agent/rotate-key", new { publicKey = key }), 401);

        // Decision: a blocked peer (suspected stolen) cannot give itself a new identity: 409 until an admin unblocks it.
        Assert.True((await Admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers/{b.PeerId}/block", new { reason = "lost" })).IsSuccessStatusCode);
        await AssertRefusedAsync(() => RotateAsync(b, key), 409);

        // Enrolling again revokes the old session: it can no longer rotate.
        var token = (await BodyAsync(await Admin.PostAsync($"/api/v1/networks/{net}/peers/{a.PeerId}/enrollment-token", null)))
            .GetProperty("enrollmentToken").GetString()!;
        var again = await EnrollAsync(token);
        await AssertRefusedAsync(() => RotateAsync(a, key), 401);
        Assert.Equal(HttpStatusCode.OK, (await RotateAsync(again, key)).StatusCode);
    }

    [Fact]
    public async Task admins_set_the_rotation_interval_agents_get_it_in_their_config_and_viewers_cannot_change_it()
    {
        var (net, a, _) = await MeshedPairAsync();
        Assert.False((await AgentConfigAsync(a)).TryGetProperty("keyRotationDays", out _));
        var network = await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{net}"));
        Assert.Equal(JsonValueKind.Null, network.GetProperty("keyRotationDays").ValueKind);
        var version = (await a.Client.GetAsync("/api/v1/agent/config")).Headers.GetValues("X-Wirety-Config-Version").Single();

        var set = await Admin.PutAsJsonAsync($"/api/v1/networks/{net}/key-rotation", new { intervalDays = 90 });
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal(90, (await BodyAsync(set)).GetProperty("intervalDays").GetInt32());
        Assert.Equal(90, (await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{net}"))).GetProperty("keyRotationDays").GetInt32());
        var config = await a.Client.GetAsync("/api/v1/agent/config");
        Assert.Equal(90, (await BodyAsync(config)).GetProperty("keyRotationDays").GetInt32());
        // A new config version, so agents that follow versions (sockets) hear of it.
        Assert.NotEqual(version, config.Headers.GetValues("X-Wirety-Config-Version").Single());

        // The same value again appends nothing; null turns it off.
        var before = await App.EventCountAsync();
        Assert.Equal(HttpStatusCode.OK, (await Admin.PutAsJsonAsync($"/api/v1/networks/{net}/key-rotation", new { intervalDays = 90 })).StatusCode);
        Assert.Equal(before, await App.EventCountAsync());
        Assert.Equal(HttpStatusCode.OK, (await Admin.PutAsJsonAsync($"/api/v1/networks/{net}/key-rotation", new { intervalDays = (int?)null })).StatusCode);
        Assert.False((await AgentConfigAsync(a)).TryGetProperty("keyRotationDays", out _));

        await using (var session = App.Store.QuerySession())
        {
            var changes = (await session.Events.FetchStreamAsync(net)).Select(e => e.Data).OfType<KeyRotationIntervalChanged>().ToList();
            Assert.Equal([90, null], changes.Select(c => c.IntervalDays));
            Assert.All(changes, c => Assert.Equal(Wirety.Server.Auth.AdminBootstrap.BootstrapTokenId, c.Actor.TokenId));
        }

        foreach (var body in new[] { "{\"intervalDays\":0}", "{\"intervalDays\":3651}", "{\"intervalDays\":\"x\"}", "null", "{\"intervalDays\":1.5}" })
            await AssertRefusedAsync(() => Admin.PutAsync($"/api/v1/networks/{net}/key-rotation", new StringContent(body, Encoding.UTF8, "application/json")), 400);
        await AssertRefusedAsync(() => Admin.PutAsJsonAsync($"/api/v1/networks/{Guid.NewGuid()}/key-rotation", new { intervalDays = 7 }), 404);

        var viewer = await BodyAsync(await Admin.PostAsJsonAsync("/api/v1/tokens", new { name = "watcher", role = "viewer" }));
        await AssertRefusedAsync(() => App.Client(viewer.GetProperty("token").GetString()).PutAsJsonAsync($"/api/v1/networks/{net}/key-rotation", new { intervalDays = 7 }), 403);
        await AssertRefusedAsync(() => a.Client.PutAsJsonAsync($"/api/v1/networks/{net}/key-rotation", new { intervalDays = 7 }), 401);
    }
}
