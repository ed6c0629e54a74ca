using System.Net;
using System.Net.Http.Json;
using Marten;
using Wirety.Events.Peers;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Agents;

public sealed class EnrollmentTests(WiretyApp app) : AgentTest(app)
{
    private async Task<IReadOnlyList<EnrollmentRejected>> RejectionsAsync()
    {
        await using var session = App.Store.QuerySession();
        return await session.Events.QueryRawEventDataOnly<EnrollmentRejected>().ToListAsync();
    }

    [Fact]
    public async Task enrolling_hands_out_a_session_and_the_config_and_records_the_public_key()
    {
        var (net, jump) = await NetworkWithJumpAsync();
        var token = await TokenForAsync(net, "laptop");
        var agent = await EnrollAsync(token, "laptop.example");

        Assert.StartsWith("wirety_session_", agent.SessionToken);
        Assert.Equal("10.10.0.2/32", agent.Config.GetProperty("interface").GetProperty("address").GetString());
        Assert.Equal("dynamic", agent.Config.GetProperty("kind").GetString());
        // The jump has not enrolled yet, so it is in nobody's config.
        Assert.Empty(agent.Config.GetProperty("peers").EnumerateArray());

        var peer = await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{net}/peers/{agent.PeerId}"));
        Assert.Equal(agent.PublicKey, peer.GetProperty("publicKey").GetString());
        Assert.True(peer.GetProperty("enrolled").GetBoolean());

        // Once the jump enrolls, the laptop's config has it, with its declared endpoint.
        var hub = await EnrollAsync((await BodyAsync(await Admin.PostAsync($"/api/v1/networks/{net}/peers/{jump}/enrollment-token", null)))
            .GetProperty("enrollmentToken").GetString()!, "hub");
        var config = await AgentConfigAsync(agent);
        var entry = Assert.Single(config.GetProperty("peers").EnumerateArray());
        Assert.Equal(hub.PublicKey, entry.GetProperty("publicKey").GetString());
        Assert.Equal("198.18.0.1:51820", entry.GetProperty("endpoint").GetString());
        Assert.Equal("10.10.0.0/24", entry.GetProperty("allowedIps")[0].GetString());

        var stored = await App.AllStoredTextAsync();
        Assert.DoesNotContain(stored, row => row.Contains(token) || row.Contains(agent.SessionToken) || row.Contains(hub.SessionToken));
    }

    [Fact]
    public async Task a_used_token_is_refused_with_401_and_recorded_without_the_token()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var token = await TokenForAsync(net, "laptop");
        await EnrollAsync(token);

        var again = await App.Client(null).PostAsJsonAsync("/api/v1/agent/enroll",
            new { token, publicKey = Wirety.Server.Peers.WireGuardKeyPair.Generate().PublicKey, hostname = "thief" });
        await AssertProblemAsync(again, 401);
        var rejection = Assert.Single(await RejectionsAsync());
        Assert.Equal("token already used", rejection.Reason);
        Assert.Equal(net, rejection.NetworkId);
        Assert.Equal("thief", rejection.Hostname);
        Assert.DoesNotContain(await App.AllStoredTextAsync(), row => row.Contains(token));
    }

    [Fact]
    public async Task unknown_and_expired_tokens_are_refused_with_401_and_recorded()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var token = await TokenForAsync(net, "laptop");
        var key = Wirety.Server.Peers.WireGuardKeyPair.Generate().PublicKey;

        await AssertProblemAsync(await App.Client(null).PostAsJsonAsync("/api/v1/agent/enroll",
            new { token = "wirety_enroll_made-up", publicKey = key, hostname = "h" }), 401);
        App.Clock.Advance(TimeSpan.FromHours(25));
        await AssertProblemAsync(await App.Client(null).PostAsJsonAsync("/api/v1/agent/enroll",
            new { token, publicKey = key, hostname = "h" }), 401);

        var reasons = (await RejectionsAsync()).Select(r => r.Reason).ToList();
        Assert.Equal(["unknown token", "token expired"], reasons);
    }

    [Theory]
    [InlineData("not-base64!")]
    [InlineData("AAAA")]
    [InlineData("")]
    public async Task a_malformed_public_key_is_400_and_appends_nothing(string publicKey)
    {
        var (net, _) = await NetworkWithJumpAsync();
        var token = await TokenForAsync(net, "laptop");
        var problem = await AssertRefusedAsync(() => App.Client(null).PostAsJsonAsync("/api/v1/agent/enroll",
            new { token, publicKey, hostname = "h" }), 400);
        Assert.True(problem.GetProperty("errors").TryGetProperty("publicKey", out _));
        // The token still works afterwards.
        await EnrollAsync(token);
    }

    [Fact]
    public async Task a_public_key_used_by_another_peer_is_409_and_appends_nothing()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var first = await EnrollAsync(await TokenForAsync(net, "a"));
        var token = await TokenForAsync(net, "b");
        await AssertRefusedAsync(() => App.Client(null).PostAsJsonAsync("/api/v1/agent/enroll",
            new { token, publicKey = first.PublicKey, hostname = "b" }), 409);
    }

    [Fact]
    public async Task a_held_public_key_spelt_another_way_in_base64_is_still_409()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var first = await EnrollAsync(await TokenForAsync(net, "a"));
        var respelt = OtherSpelling(first.PublicKey);
        Assert.NotEqual(first.PublicKey, respelt);
        Assert.Equal(Convert.FromBase64String(first.PublicKey), Convert.FromBase64String(respelt));

        var token = await TokenForAsync(net, "b");
        await AssertRefusedAsync(() => App.Client(null).PostAsJsonAsync("/api/v1/agent/enroll",
            new { token, publicKey = respelt, hostname = "b" }), 409);
    }

    [Fact]
    public async Task a_key_in_non_canonical_base64_is_recorded_in_its_canonical_form()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var canonical = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var response = await App.Client(null).PostAsJsonAsync("/api/v1/agent/enroll",
            new { token = await TokenForAsync(net, "a"), publicKey = OtherSpelling(canonical), hostname = "a" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var peerId = (await BodyAsync(response)).GetProperty("peerId").GetGuid();
        var peer = await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{net}/peers/{peerId}"));
        Assert.Equal(canonical, peer.GetProperty("publicKey").GetString());
    }

    /// <summary>
    /// The same 32 bytes in other base64 text: the last data character of a 32-byte key carries two bits
    /// the decoder ignores, and a canonical encoder leaves them zero; this sets one.
    /// </summary>
    private static string OtherSpelling(string key)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        var chars = key.ToCharArray();
        chars[42] = alphabet[alphabet.IndexOf(chars[42]) | 1];
        return new string(chars);
    }

    [Fact]
    public async Task deleting_a_peer_or_its_network_frees_its_public_key_for_another_peer()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var first = await EnrollAsync(await TokenForAsync(net, "a"));
        var token = await TokenForAsync(net, "b");
        Task<HttpResponseMessage> EnrollWithFirstKey(string t) =>
            App.Client(null).PostAsJsonAsync("/api/v1/agent/enroll", new { token = t, publicKey = first.PublicKey, hostname = "b" });
        await AssertRefusedAsync(() => EnrollWithFirstKey(token), 409);

        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"/api/v1/networks/{net}/peers/{first.PeerId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await EnrollWithFirstKey(token)).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"/api/v1/networks/{net}?force=true")).StatusCode);
        var (other, _) = await NetworkWithJumpAsync();
        Assert.Equal(HttpStatusCode.OK, (await EnrollWithFirstKey(await TokenForAsync(other, "c"))).StatusCode);
    }

    [Fact]
    public async Task a_new_enrollment_token_replaces_the_old_one_and_re_enrolling_revokes_the_old_session()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var create = await CreatePeerAsync(net, new { name = "laptop", kind = "dynamic" });
        var peerId = create.GetProperty("id").GetGuid();
        var oldToken = create.GetProperty("enrollmentToken").GetString()!;
        var first = await EnrollAsync(oldToken);

        var reissued = await BodyAsync(await Admin.PostAsync($"/api/v1/networks/{net}/peers/{peerId}/enrollment-token", null));
        var second = await EnrollAsync(reissued.GetProperty("enrollmentToken").GetString()!);
        Assert.Equal(peerId, second.PeerId);
        await AssertProblemAsync(await first.Client.GetAsync("/api/v1/agent/config"), 401);
        Assert.Equal(HttpStatusCode.OK, (await second.Client.GetAsync("/api/v1/agent/config")).StatusCode);

        await AssertProblemAsync(await Admin.PostAsync($"/api/v1/networks/{net}/peers/{Guid.NewGuid()}/enrollment-token", null), 404);
        var staticPeer = (await CreatePeerAsync(net, new { name = "phone", kind = "static" })).GetProperty("id");
        await AssertRefusedAsync(() => Admin.PostAsync($"/api/v1/networks/{net}/peers/{staticPeer}/enrollment-token", null), 409);
    }
}
