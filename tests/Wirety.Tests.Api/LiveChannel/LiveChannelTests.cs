using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Wirety.Events;
using Wirety.Events.Incidents;
using Wirety.Events.Peers;
using Wirety.Server.LiveChannel;
using Wirety.Tests.Api.Agents;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.LiveChannel;

public sealed class LiveChannelTests(WiretyApp app) : AgentTest(app)
{
    private PeerPresence Presence => App.Services.GetRequiredService<PeerPresence>();
    private TimeSpan Grace => App.Services.GetRequiredService<LiveChannelOptions>().PresenceGrace;

    [Fact]
    public async Task an_admin_with_the_token_in_the_header_hears_about_new_networks_and_peers()
    {
        using var socket = await ConnectAdminAsync(header: WiretyApp.AdminToken);

        var net = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        var created = await NextAsync(socket, n => n.Type == LiveNotice.NetworkChanged);
        Assert.Equal(net, created.NetworkId);
        Assert.Equal(1, created.Version);

        var peer = (await CreatePeerAsync(net, new { name = "laptop", kind = "dynamic" })).GetProperty("id").GetGuid();
        var added = await NextAsync(socket, _ => true);
        Assert.Equal((LiveNotice.PeerChanged, net, peer, PeerChange.Added), (added.Type, added.NetworkId, added.PeerId, added.Change));
        // PeerAdded and EnrollmentTokenIssued in one commit: one network-changed, at the version the stream reached.
        var changed = await NextAsync(socket, _ => true);
        Assert.Equal(LiveNotice.NetworkChanged, changed.Type);
        var events = await BodyAsync(await Admin.GetAsync($"/api/v1/networks/{net}/events"));
        Assert.Equal(events[events.GetArrayLength() - 1].GetProperty("version").GetInt64(), changed.Version);
    }

    [Fact]
    public async Task notices_of_a_commit_on_another_instance_reach_the_admins_here_once()
    {
        using var socket = await ConnectAdminAsync(header: WiretyApp.AdminToken);
        var (net, peer, incident) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        // What another instance sends in its commit's NOTIFY (see ChangeNotice.LiveOf).
        var notice = new Wirety.Server.Changes.ChangeNotice(Guid.NewGuid(), Live:
        [
            new LiveNotice(LiveNotice.IncidentDetected) { IncidentId = incident, NetworkId = net, PeerId = peer, IncidentType = "sharedConfig" },
            LiveNotice.Peer(net, peer, PeerChange.Blocked),
            LiveNotice.Network(net, 9),
        ], Commit: Guid.NewGuid());
        await using (var connection = new Npgsql.NpgsqlConnection(App.ConnectionString))
        {
            await connection.OpenAsync();
            await using var notify = new Npgsql.NpgsqlCommand("select pg_notify(@channel, @payload)", connection);
            notify.Parameters.AddWithValue("channel", Wirety.Server.Changes.ChangeFeed.Channel);
            notify.Parameters.AddWithValue("payload", App.Services.GetRequiredService<Wirety.Server.Changes.NoticeSigner>().Sign(notice.ToPayload()));
            await notify.ExecuteNonQueryAsync();
        }

        var detected = await NextAsync(socket, _ => true);
        Assert.Equal((LiveNotice.IncidentDetected, incident, "sharedConfig"), (detected.Type, detected.IncidentId!.Value, detected.IncidentType));
        Assert.Equal((LiveNotice.PeerChanged, peer, PeerChange.Blocked), ((await NextAsync(socket, _ => true)) is var b ? (b.Type, b.PeerId!.Value, b.Change) : default));
        Assert.Equal((LiveNotice.NetworkChanged, 9L), ((await NextAsync(socket, _ => true)) is var n ? (n.Type, n.Version!.Value) : default));

        // This instance's own commits are announced by its commit hook only, not a second time from their NOTIFY echo.
        var created = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        Assert.Equal(created, (await NextAsync(socket, x => x.Type == LiveNotice.NetworkChanged)).NetworkId);
        var again = (await CreateNetworkAsync("second", "10.20.0.0/24")).GetProperty("id").GetGuid();
        Assert.Equal(again, (await NextAsync(socket, _ => true)).NetworkId); // not a repeat of the first
    }

    [Fact]
    public async Task a_browser_can_send_the_token_as_access_token_and_it_never_reaches_the_logs()
    {
        using var socket = await ConnectAdminAsync(query: WiretyApp.AdminToken);
        var net = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        Assert.Equal(net, (await NextAsync(socket, n => n.Type == LiveNotice.NetworkChanged)).NetworkId);

        // The query token passed authentication: a plain GET gets past it to "WebSocket only".
        await AssertProblemAsync(await App.Client(null).GetAsync($"/api/v1/ws?access_token={WiretyApp.AdminToken}"), 400);

        Assert.Contains(App.Logs, line => line.Contains("Admin live channel opened (token bootstrap-admin"));
        Assert.DoesNotContain(App.Logs, line => line.Contains(WiretyApp.AdminToken));
        Assert.DoesNotContain(App.Logs, line => line.Contains("access_token"));
    }

    [Fact]
    public async Task the_query_token_is_accepted_on_the_live_channel_only()
    {
        await AssertProblemAsync(await App.Client(null).GetAsync($"/api/v1/networks?access_token={WiretyApp.AdminToken}"), 401);
        await AssertProblemAsync(await App.Client(null).GetAsync($"/api/v1/agent/ws?access_token={WiretyApp.AdminToken}"), 401);
    }

    [Fact]
    public async Task no_token_an_unknown_token_or_an_agent_session_is_refused_with_401()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var agent = await EnrollAsync(await TokenForAsync(net, "laptop"));
        const string unknown = "wirety_not-a-real-token-0123456789abcdefghijklmnop";

        await AssertProblemAsync(await App.Client(null).GetAsync("/api/v1/ws"), 401);
        foreach (var bearer in new[] { unknown, agent.SessionToken })
        {
            await AssertProblemAsync(await App.Client(bearer).GetAsync("/api/v1/ws"), 401);
            await AssertProblemAsync(await App.Client(null).GetAsync($"/api/v1/ws?access_token={bearer}"), 401);
            await AssertUpgradeRefusedAsync(header: bearer);
            await AssertUpgradeRefusedAsync(query: bearer);
        }
        await AssertUpgradeRefusedAsync();
    }

    [Fact]
    public async Task a_plain_request_with_a_good_token_is_told_to_use_websocket() =>
        await AssertProblemAsync(await Admin.GetAsync("/api/v1/ws"), 400);

    [Fact]
    public async Task an_enrolled_agents_heartbeat_brings_its_peer_online_and_silence_past_the_grace_takes_it_offline()
    {
        using var socket = await ConnectAdminAsync(header: WiretyApp.AdminToken);
        var (net, jump) = await NetworkWithJumpAsync();
        var agent = await EnrollAsync(await TokenForAsync(net, "laptop"));
        var enrolled = await NextAsync(socket, n => n.Type == LiveNotice.PeerChanged && n.Change == PeerChange.Enrolled);
        Assert.Equal(agent.PeerId, enrolled.PeerId);

        Assert.Equal(HttpStatusCode.NoContent, (await HeartbeatAsync(agent)).StatusCode);
        var online = await NextAsync(socket, n => n.Type is LiveNotice.PeerOnline or LiveNotice.PeerOffline);
        Assert.Equal((LiveNotice.PeerOnline, net, agent.PeerId), (online.Type, online.NetworkId, online.PeerId));
        var seenAt = App.Clock.GetUtcNow();

        var presence = await PresenceAsync(net);
        Assert.True(presence[agent.PeerId].Online);
        Assert.InRange(presence[agent.PeerId].LastSeen!.Value, seenAt.AddSeconds(-10), seenAt);
        Assert.Equal((false, null), presence[jump]); // listed, never seen

        // Within the grace nothing changes; a second heartbeat announces nothing new.
        App.Clock.Advance(Grace - TimeSpan.FromSeconds(1));
        Assert.Equal(0, Presence.Sweep());
        Assert.True((await PresenceAsync(net))[agent.PeerId].Online);

        App.Clock.Advance(TimeSpan.FromSeconds(2));
        Presence.Sweep();
        var offline = await NextAsync(socket, n => n.Type is LiveNotice.PeerOnline or LiveNotice.PeerOffline);
        Assert.Equal((LiveNotice.PeerOffline, net, agent.PeerId), (offline.Type, offline.NetworkId, offline.PeerId));
        var after = (await PresenceAsync(net))[agent.PeerId];
        Assert.False(after.Online);
        Assert.Equal(presence[agent.PeerId].LastSeen, after.LastSeen);

        // The next heartbeat is a transition again.
        await HeartbeatAsync(agent);
        var back = await NextAsync(socket, n => n.Type is LiveNotice.PeerOnline or LiveNotice.PeerOffline);
        Assert.Equal((LiveNotice.PeerOnline, agent.PeerId), (back.Type, back.PeerId));
    }

    [Fact]
    public async Task an_open_agent_socket_keeps_its_peer_online_without_heartbeats()
    {
        using var admin = await ConnectAdminAsync(header: WiretyApp.AdminToken);
        var (net, _) = await NetworkWithJumpAsync();
        var agent = await EnrollAsync(await TokenForAsync(net, "laptop"));

        var agentSocket = await App.ConnectAgentSocketAsync(agent.SessionToken);
        var online = await NextAsync(admin, n => n.Type is LiveNotice.PeerOnline or LiveNotice.PeerOffline);
        Assert.Equal((LiveNotice.PeerOnline, agent.PeerId), (online.Type, online.PeerId));

        App.Clock.Advance(Grace * 10);
        Assert.Equal(0, Presence.Sweep());
        Assert.True((await PresenceAsync(net))[agent.PeerId].Online);

        await agentSocket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        agentSocket.Dispose();
        var sockets = App.Services.GetRequiredService<Wirety.Server.Agents.AgentSockets>();
        await EventuallyAsync(() => Task.FromResult(!sockets.IsConnected(agent.PeerId)), "the server saw the agent socket close");
        Assert.Equal(0, Presence.Sweep()); // the grace starts when the socket closed

        App.Clock.Advance(Grace + TimeSpan.FromSeconds(1));
        Presence.Sweep();
        var offline = await NextAsync(admin, n => n.Type is LiveNotice.PeerOnline or LiveNotice.PeerOffline);
        Assert.Equal((LiveNotice.PeerOffline, agent.PeerId), (offline.Type, offline.PeerId));
    }

    [Fact]
    public async Task blocking_unblocking_and_removing_a_peer_are_announced()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var peer = (await CreatePeerAsync(net, new { name = "laptop", kind = "dynamic" })).GetProperty("id").GetGuid();
        using var socket = await ConnectAdminAsync(header: WiretyApp.AdminToken);

        await Admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers/{peer}/block", new { reason = "lost laptop" });
        await Admin.PostAsync($"/api/v1/networks/{net}/peers/{peer}/unblock", null);
        await Admin.DeleteAsync($"/api/v1/networks/{net}/peers/{peer}");

        foreach (var change in new[] { PeerChange.Blocked, PeerChange.Unblocked, PeerChange.Removed })
        {
            var notice = await NextAsync(socket, n => n.Type == LiveNotice.PeerChanged);
            Assert.Equal((net, peer, change), (notice.NetworkId, notice.PeerId, notice.Change));
        }
    }

    [Fact]
    public async Task a_committed_incident_is_announced_with_the_block_that_came_with_it()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var peer = (await CreatePeerAsync(net, new { name = "laptop", kind = "dynamic" })).GetProperty("id").GetGuid();
        using var socket = await ConnectAdminAsync(header: WiretyApp.AdminToken);
        var incident = Guid.NewGuid();
        var now = App.Clock.GetUtcNow();

        // What detection commits (its endpoint is another milestone): the incident stream plus the block.
        await using (var session = App.Store.LightweightSession())
        {
            session.Events.StartStream(incident, new IncidentDetected(incident, net, peer, IncidentType.SessionConflict, "two sessions", [], now));
            session.Events.Append(net, new PeerBlocked(net, peer, "incident " + incident, Actor.System, now));
            await session.SaveChangesAsync();
        }
        var detected = await NextAsync(socket, _ => true);
        Assert.Equal((LiveNotice.IncidentDetected, incident, net, peer, "sessionConflict"),
            (detected.Type, detected.IncidentId, detected.NetworkId, detected.PeerId, detected.IncidentType));
        var blocked = await NextAsync(socket, _ => true);
        Assert.Equal((LiveNotice.PeerChanged, peer, PeerChange.Blocked), (blocked.Type, blocked.PeerId, blocked.Change));
        Assert.Equal(LiveNotice.NetworkChanged, (await NextAsync(socket, _ => true)).Type);

        await using (var session = App.Store.LightweightSession())
        {
            session.Events.Append(incident, new IncidentResolved(incident, net, peer, "false alarm", false, Actor.System, now));
            await session.SaveChangesAsync();
        }
        var resolved = await NextAsync(socket, _ => true);
        Assert.Equal((LiveNotice.IncidentResolved, incident, peer), (resolved.Type, resolved.IncidentId, resolved.PeerId));
    }

    [Fact]
    public async Task every_connected_admin_gets_each_notice_and_a_closed_one_is_answered_and_let_go()
    {
        using var first = await ConnectAdminAsync(header: WiretyApp.AdminToken);
        using var second = await ConnectAdminAsync(query: WiretyApp.AdminToken);
        using var leaving = await ConnectAdminAsync(header: WiretyApp.AdminToken);
        await leaving.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, leaving.CloseStatus);
        var hub = App.Services.GetRequiredService<LiveHub>();
        await EventuallyAsync(() => Task.FromResult(hub.Count == 2), "the hub let the closed socket go");

        var net = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        Assert.Equal(net, (await NextAsync(first, n => n.Type == LiveNotice.NetworkChanged)).NetworkId);
        Assert.Equal(net, (await NextAsync(second, n => n.Type == LiveNotice.NetworkChanged)).NetworkId);
    }

    [Fact]
    public async Task presence_of_an_unknown_network_is_404() =>
        await AssertProblemAsync(await Admin.GetAsync($"/api/v1/networks/{Guid.NewGuid()}/presence"), 404);

    private async Task<Dictionary<Guid, (bool Online, DateTimeOffset? LastSeen)>> PresenceAsync(Guid net)
    {
        var response = await Admin.GetAsync($"/api/v1/networks/{net}/presence");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await BodyAsync(response)).EnumerateArray().ToDictionary(
            p => p.GetProperty("peerId").GetGuid(),
            p => (p.GetProperty("online").GetBoolean(),
                p.GetProperty("lastSeen").ValueKind == JsonValueKind.Null ? (DateTimeOffset?)null : p.GetProperty("lastSeen").GetDateTimeOffset()));
    }

    private Task<WebSocket> OpenAdminSocketAsync(string? header, string? query)
    {
        var client = App.Server.CreateWebSocketClient();
        if (header is not null) client.ConfigureRequest = r => r.Headers.Authorization = "Bearer " + header;
        var path = query is null ? "api/v1/ws" : "api/v1/ws?access_token=" + Uri.EscapeDataString(query);
        return client.ConnectAsync(new Uri(App.Server.BaseAddress, path), CancellationToken.None);
    }

    /// <summary>Opens an admin socket and waits for ready: from then on no notice is missed.</summary>
    private async Task<WebSocket> ConnectAdminAsync(string? header = null, string? query = null)
    {
        var socket = await OpenAdminSocketAsync(header, query);
        Assert.Equal(LiveNotice.Ready, (await NextAsync(socket, _ => true)).Type);
        return socket;
    }

    private async Task AssertUpgradeRefusedAsync(string? header = null, string? query = null)
    {
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => OpenAdminSocketAsync(header, query));
        Assert.Contains("401", refused.Message);
    }

    /// <summary>Reads notices until one matches (skipping others); fails after 15 s.</summary>
    private static async Task<LiveNotice> NextAsync(WebSocket socket, Func<LiveNotice, bool> match)
    {
        var buffer = new byte[8192];
        var skipped = new List<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            WebSocketReceiveResult result;
            try { result = await socket.ReceiveAsync(buffer, timeout.Token); }
            catch (OperationCanceledException) { throw new Xunit.Sdk.XunitException("No matching notice within 15 s; got: " + string.Join(", ", skipped)); }
            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            Assert.True(result.EndOfMessage);
            var json = System.Text.Encoding.UTF8.GetString(buffer, 0, result.Count);
            var notice = JsonSerializer.Deserialize(json, LiveNoticeJson.Default.LiveNotice)!;
            if (match(notice)) return notice;
            skipped.Add(json);
        }
    }
}
