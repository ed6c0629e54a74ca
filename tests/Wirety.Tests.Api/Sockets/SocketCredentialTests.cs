using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Wirety.Server.Changes;
using Wirety.Server.Limits;
using Wirety.Server.LiveChannel;
using Wirety.Tests.Api.Agents;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Sockets;

/// <summary>
/// The WebSockets a credential may hold: at most a few per agent session and per API token on an instance
/// (refused with a 429 problem before the upgrade), and none once the token is revoked or has expired.
/// The two-instance behaviour (a revocation through A closes the socket on B) is in tests/Wirety.Tests.Cluster.
/// </summary>
public sealed class SocketCredentialTests(WiretyApp app) : AgentTest(app)
{
    private LimitsOptions Limits => App.Services.GetRequiredService<IOptions<LimitsOptions>>().Value;

    [Fact]
    public async Task an_agent_session_over_its_socket_cap_is_refused_with_a_429_problem_before_the_upgrade()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var agent = await EnrollAsync(await TokenForAsync(net, "laptop"));
        var cap = Limits.SocketsPerAgentSession;
        Assert.Equal(4, cap); // the documented default
        var open = new List<WebSocket>();
        for (var i = 0; i < cap; i++) open.Add(await App.ConnectAgentSocketAsync(agent.SessionToken));

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => App.ConnectAgentSocketAsync(agent.SessionToken));
        Assert.Contains("429", refused.Message);
        // The same answer as a problem with Retry-After (a plain request shows the body the handshake hides).
        var response = await agent.Client.GetAsync("/api/v1/agent/ws");
        var problem = await AssertProblemAsync(response, 429);
        Assert.Contains("agent session", problem.GetProperty("detail").GetString());
        Assert.Equal(Limits.SocketRetryAfter, response.Headers.RetryAfter?.Delta);

        // Another session of the same network is not affected.
        var other = await EnrollAsync(await TokenForAsync(net, "desktop"));
        using (await App.ConnectAgentSocketAsync(other.SessionToken)) { }

        // Closing a socket frees its slot.
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
            await open[0].CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
        WebSocket? again = null;
        await EventuallyAsync(async () =>
        {
            try { again = await App.ConnectAgentSocketAsync(agent.SessionToken); return true; }
            catch (InvalidOperationException e) when (e.Message.Contains("429")) { return false; }
        }, "a closed socket's slot is free again");
        open[0] = again!;
        foreach (var socket in open) socket.Dispose();
    }

    [Fact]
    public async Task an_api_token_over_its_live_channel_cap_is_refused_with_a_429_problem_before_the_upgrade()
    {
        var (_, token) = await IssueTokenAsync("tabs", "viewer");
        var cap = Limits.SocketsPerApiToken;
        Assert.Equal(16, cap); // the documented default
        var open = new List<WebSocket>();
        for (var i = 0; i < cap; i++) open.Add(await OpenLiveAsync(token));

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => OpenLiveAsync(token));
        Assert.Contains("429", refused.Message);
        using var client = App.Client(token);
        var response = await client.GetAsync("/api/v1/ws");
        var problem = await AssertProblemAsync(response, 429);
        Assert.Contains("API token", problem.GetProperty("detail").GetString());
        Assert.NotNull(response.Headers.RetryAfter);

        // The cap is per token: the admin token still opens one.
        using (await OpenLiveAsync(WiretyApp.AdminToken)) { }
        foreach (var socket in open) socket.Dispose();
    }

    [Fact]
    public async Task revoking_an_api_token_closes_its_live_channels_with_a_policy_violation()
    {
        var (id, token) = await IssueTokenAsync("revoked", "viewer");
        using var first = await OpenLiveAsync(token);
        using var second = await OpenLiveAsync(token);
        using var admin = await OpenLiveAsync(WiretyApp.AdminToken);

        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"/api/v1/tokens/{id}")).StatusCode);

        await AssertClosedAsync(first, "token revoked");
        await AssertClosedAsync(second, "token revoked");
        // Another token's channel stays open and keeps hearing.
        var net = (await CreateNetworkAsync("after", "10.71.0.0/24")).GetProperty("id").GetGuid();
        await HearAsync(admin, n => n.Type == LiveNotice.NetworkChanged && n.NetworkId == net);
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => OpenLiveAsync(token));
        Assert.Contains("401", refused.Message);
    }

    [Fact]
    public async Task a_live_channel_is_closed_when_its_api_token_expires()
    {
        var (_, token) = await IssueTokenAsync("short-lived", "viewer", App.Clock.GetUtcNow().AddHours(1));
        using var expiring = await OpenLiveAsync(token);
        using var lasting = await OpenLiveAsync(WiretyApp.AdminToken); // no expiry

        // The server's clock passes the expiry; the sweep (every second) closes the socket. No wall-clock assertion.
        App.Clock.Advance(TimeSpan.FromHours(2));
        await AssertClosedAsync(expiring, "token expired");

        var net = (await CreateNetworkAsync("after", "10.72.0.0/24")).GetProperty("id").GetGuid();
        await HearAsync(lasting, n => n.Type == LiveNotice.NetworkChanged && n.NetworkId == net);
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => OpenLiveAsync(token));
        Assert.Contains("401", refused.Message);
    }

    [Fact]
    public async Task a_forged_change_notice_is_dropped_while_signed_ones_still_act()
    {
        var (net, a, b) = await MeshedPairAsync();
        using var socket = await App.ConnectAgentSocketAsync(a.SessionToken);
        using var admin = await OpenLiveAsync(WiretyApp.AdminToken);
        var config = await a.Client.GetAsync("/api/v1/agent/config");
        var etag = config.Headers.ETag!;
        Assert.Equal(HttpStatusCode.NotModified, (await ConditionalConfigAsync(a, etag)).StatusCode); // cached

        // What any database role can send: "the network is deleted" (closes a's socket, drops the caches) and a
        // fake incident for the admins, unsigned, with a made-up MAC, and with the real MAC of another payload.
        var marker = Guid.NewGuid();
        var forgedDelete = new ChangeNotice(Guid.NewGuid(), new NetworkChanged(net, 999, [a.PeerId], [], NetworkDeleted: true)).ToPayload();
        var forgedLive = new ChangeNotice(Guid.NewGuid(), Live: [new LiveNotice(LiveNotice.IncidentDetected) { IncidentId = marker, NetworkId = net }],
            Commit: Guid.NewGuid(), Part: 0).ToPayload();
        var signer = App.Services.GetRequiredService<NoticeSigner>();
        var borrowedMac = signer.Sign("{}")[..NoticeSigner.Overhead];
        var listener = App.Services.GetRequiredService<ChangeFeedListener>();
        var refusedBefore = listener.RefusedNotices;
        foreach (var forged in new[] { forgedDelete, forgedLive })
        {
            await NotifyAsync(forged);
            await NotifyAsync(new string('A', NoticeSigner.Overhead - 1) + "." + forged);
            await NotifyAsync(borrowedMac + forged);
        }

        // A signed notice after them: notices are heard in order, so once the admin hears it the forged ones were handled.
        var barrier = Guid.NewGuid();
        await NotifyAsync(signer.Sign(new ChangeNotice(Guid.NewGuid(), Live: [new LiveNotice(LiveNotice.NetworkChanged) { NetworkId = barrier, Version = 1 }],
            Commit: Guid.NewGuid(), Part: 0).ToPayload()));
        var heard = await HearAsync(admin, n => n.NetworkId == barrier);
        Assert.DoesNotContain(heard, n => n.IncidentId == marker);

        // Caches kept: the conditional config read still needs no database round trip (session and config cached).
        var before = App.DatabaseCommands.Count;
        Assert.Equal(HttpStatusCode.NotModified, (await ConditionalConfigAsync(a, etag)).StatusCode);
        Assert.Equal(before, App.DatabaseCommands.Count);

        // Socket kept: the next thing a hears is the push of a genuine change, not a close.
        await Admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers/{b.PeerId}/block", new { reason = "test" });
        var blocked = (await AgentConfigAsync(a)).GetProperty("version").GetString();
        while (true)
        {
            var (type, version) = await ReceivePushAsync(socket);
            Assert.True(type == WebSocketMessageType.Text, $"a's socket was closed ({socket.CloseStatus}: {socket.CloseStatusDescription})");
            if (version == blocked) break;
        }
        // All six were refused (the warning itself is logged at most once a minute, so it may belong to another test).
        Assert.Equal(6, listener.RefusedNotices - refusedBefore);
        Assert.DoesNotContain(App.Logs, l => l.Contains(marker.ToString(), StringComparison.OrdinalIgnoreCase));
    }

    private Task<HttpResponseMessage> ConditionalConfigAsync(Enrolled agent, System.Net.Http.Headers.EntityTagHeaderValue etag)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/agent/config");
        request.Headers.IfNoneMatch.Add(etag);
        return agent.Client.SendAsync(request);
    }

    private async Task NotifyAsync(string payload)
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var notify = new NpgsqlCommand("select pg_notify(@channel, @payload)", connection);
        notify.Parameters.AddWithValue("channel", ChangeFeed.Channel);
        notify.Parameters.AddWithValue("payload", payload);
        await notify.ExecuteNonQueryAsync();
    }

    private async Task<(Guid Id, string Token)> IssueTokenAsync(string name, string role, DateTimeOffset? expiresAt = null)
    {
        var response = await Admin.PostAsJsonAsync("/api/v1/tokens", new { name, role, expiresAt });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await BodyAsync(response);
        return (body.GetProperty("id").GetGuid(), body.GetProperty("token").GetString()!);
    }

    /// <summary>Opens a live channel and reads its ready notice.</summary>
    private async Task<WebSocket> OpenLiveAsync(string token)
    {
        var client = App.Server.CreateWebSocketClient();
        client.ConfigureRequest = r => r.Headers.Authorization = "Bearer " + token;
        var socket = await client.ConnectAsync(new Uri(App.Server.BaseAddress, "api/v1/ws"), CancellationToken.None);
        Assert.Equal(LiveNotice.Ready, (await HearAsync(socket, _ => true))[^1].Type);
        return socket;
    }

    /// <summary>Reads notices until one matches; returns all read. Fails on a close or after 15 s.</summary>
    private static async Task<List<LiveNotice>> HearAsync(WebSocket socket, Func<LiveNotice, bool> match)
    {
        var buffer = new byte[16384];
        var heard = new List<LiveNotice>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            Assert.True(result.MessageType == WebSocketMessageType.Text, $"closed ({socket.CloseStatus}: {socket.CloseStatusDescription})");
            var notice = JsonSerializer.Deserialize(Encoding.UTF8.GetString(buffer, 0, result.Count), LiveNoticeJson.Default.LiveNotice)!;
            heard.Add(notice);
            if (match(notice)) return heard;
        }
    }

    /// <summary>Reads until the server's close (skipping notices) and checks it is 1008 with the reason.</summary>
    private static async Task AssertClosedAsync(WebSocket socket, string reason)
    {
        var buffer = new byte[16384];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while ((await socket.ReceiveAsync(buffer, timeout.Token)).MessageType != WebSocketMessageType.Close) { }
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, socket.CloseStatus);
        Assert.Equal(reason, socket.CloseStatusDescription);
    }

    /// <summary>The next agent push: a config-changed version, or the close.</summary>
    private static async Task<(WebSocketMessageType Type, string? Version)> ReceivePushAsync(WebSocket socket)
    {
        var buffer = new byte[1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var result = await socket.ReceiveAsync(buffer, timeout.Token);
        if (result.MessageType != WebSocketMessageType.Text) return (result.MessageType, null);
        using var message = JsonDocument.Parse(buffer.AsMemory(0, result.Count));
        return (result.MessageType, message.RootElement.GetProperty("version").GetString());
    }
}
