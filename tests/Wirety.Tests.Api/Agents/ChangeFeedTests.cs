using System.Net;
using System.Net.WebSockets;
using System.Text;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Wirety.Events;
using Wirety.Events.Peers;
using Wirety.Projections.Networks;
using Wirety.Server.Changes;
using Wirety.Server.Hosting;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Agents;

/// <summary>
/// The change notices instances send each other over PostgreSQL NOTIFY (the two-process behaviour is in
/// tests/Wirety.Tests.Cluster). Here: the wire format, and a notice from "another instance" arriving
/// at this one.
/// </summary>
public sealed class ChangeFeedTests(WiretyApp app) : AgentTest(app)
{
    [Fact]
    public void a_notice_round_trips_through_its_payload()
    {
        var notice = new ChangeNotice(Guid.NewGuid(), new NetworkChanged(Guid.NewGuid(), 42, [Guid.NewGuid()],
            [new PeerSession(Guid.NewGuid(), Guid.NewGuid())], false));
        var parsed = ChangeNotice.Parse(notice.ToPayload());
        Assert.NotNull(parsed);
        Assert.Equal(notice.Origin, parsed.Origin);
        Assert.Equal(notice.Network!.Version, parsed.Network!.Version);
        Assert.Equal(notice.Network.RemovedPeers, parsed.Network.RemovedPeers);
        Assert.Equal(notice.Network.Enrollments, parsed.Network.Enrollments);
        Assert.False(parsed.Network.Full);

        var token = new ChangeNotice(Guid.NewGuid(), RevokedToken: Guid.NewGuid());
        Assert.Equal(token, ChangeNotice.Parse(token.ToPayload()));
        Assert.Null(ChangeNotice.Parse("{\"origin\":\"" + Guid.NewGuid() + "\"}"));
        Assert.Null(ChangeNotice.Parse("not json"));
    }

    [Fact]
    public void the_live_notices_of_a_commit_travel_in_chunks_that_fit_a_notify()
    {
        var net = Guid.NewGuid();
        var events = Enumerable.Range(1, 60).Select(i => On(net, new PeerAdded(net, Guid.NewGuid(), $"p{i}", PeerKind.Dynamic, "10.0.0.1",
            null, null, null, false, false, [], Actor.System, DateTimeOffset.UnixEpoch), i)).ToList();
        var notices = ChangeNotice.LiveOf(Guid.NewGuid(), events);

        var parsed = notices.Select(n => n.ToPayload()).Select(p =>
        {
            Assert.True(Encoding.UTF8.GetByteCount(p) <= ChangeNotice.MaxPayloadBytes);
            return ChangeNotice.Parse(p)!;
        }).ToList();
        var live = parsed.SelectMany(n => n.Live!).ToList();
        Assert.Equal(61, live.Count); // 60 peer-changed, then one network-changed at the last version
        Assert.Equal(events.Select(e => ((PeerAdded)e.Data).PeerId), live.Take(60).Select(n => n.PeerId!.Value));
        Assert.Equal(("network-changed", net, 60L), (live[^1].Type, live[^1].NetworkId!.Value, live[^1].Version!.Value));
        Assert.Empty(ChangeNotice.LiveOf(Guid.NewGuid(), [On(Guid.NewGuid(), new HeartbeatReceived(Guid.NewGuid(), net, Guid.NewGuid(),
            Guid.NewGuid(), "192.0.2.1", "h", null, [], 1, [], DateTimeOffset.UnixEpoch), 1)]));
    }

    private static JasperFx.Events.IEvent On(Guid streamId, object data, long version)
    {
        var e = (JasperFx.Events.IEvent)Activator.CreateInstance(typeof(JasperFx.Events.Event<>).MakeGenericType(data.GetType()), data)!;
        e.StreamId = streamId;
        e.Version = version;
        return e;
    }

    [Fact]
    public void a_notice_too_big_for_notify_is_sent_reduced_to_full()
    {
        var removed = Enumerable.Range(0, 400).Select(_ => Guid.NewGuid()).ToList();
        var notice = new ChangeNotice(Guid.NewGuid(), new NetworkChanged(Guid.NewGuid(), 7, removed, [], false));
        var payload = notice.ToPayload();
        Assert.True(Encoding.UTF8.GetByteCount(payload) < 8000, $"{Encoding.UTF8.GetByteCount(payload)} bytes");

        var parsed = ChangeNotice.Parse(payload)!;
        Assert.True(parsed.Network!.Full);
        Assert.Equal(7, parsed.Network.Version);
        Assert.Equal(notice.Network!.NetworkId, parsed.Network.NetworkId);
        Assert.Empty(parsed.Network.RemovedPeers);
    }

    [Fact]
    public async Task the_committing_instance_pushes_each_change_once_although_it_also_hears_its_own_notice()
    {
        var (net, a, b) = await MeshedPairAsync();
        using var socket = await App.ConnectAgentSocketAsync(a.SessionToken);

        // Pushes of the commits before the socket opened may still arrive: skip up to the block's.
        await Admin.PostAsync($"/api/v1/networks/{net}/peers/{b.PeerId}/block", JsonContent(new { reason = "test" }));
        var blocked = (await AgentConfigAsync(a)).GetProperty("version").GetString()!;
        while (await ReceiveAsync(socket) is var (_, version) && version != blocked)
            Assert.True(long.Parse(version!) < long.Parse(blocked), $"pushed {version} before the block ({blocked})");

        await Admin.PostAsync($"/api/v1/networks/{net}/peers/{b.PeerId}/unblock", JsonContent(new { reason = "test" }));
        var unblocked = (await AgentConfigAsync(a)).GetProperty("version").GetString()!;
        // A second push of the block (commit hook and NOTIFY echo both handled) would come next.
        var (type, next) = await ReceiveAsync(socket);
        Assert.Equal(WebSocketMessageType.Text, type);
        Assert.Equal(unblocked, next);
    }

    private static StringContent JsonContent(object body) =>
        new(System.Text.Json.JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    /// <summary>The next message: a config-changed notice with its version, or the close.</summary>
    private static async Task<(WebSocketMessageType Type, string? Version)> ReceiveAsync(WebSocket socket)
    {
        var buffer = new byte[1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var result = await socket.ReceiveAsync(buffer, timeout.Token);
        if (result.MessageType != WebSocketMessageType.Text) return (result.MessageType, null);
        using var message = System.Text.Json.JsonDocument.Parse(buffer.AsMemory(0, result.Count));
        Assert.Equal("config-changed", message.RootElement.GetProperty("type").GetString());
        return (result.MessageType, message.RootElement.GetProperty("version").GetString());
    }

    [Fact]
    public async Task a_full_notice_from_another_instance_drops_cached_sessions_and_closes_revoked_sockets()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var agent = await EnrollAsync(await TokenForAsync(net, "laptop"));
        using var socket = await App.ConnectAgentSocketAsync(agent.SessionToken);
        Assert.Equal(HttpStatusCode.OK, (await agent.Client.GetAsync("/api/v1/agent/config")).StatusCode);

        // "Another instance" deletes the peer: a store without this server's commit hook, so this
        // instance hears nothing and still holds the session in memory.
        long version;
        await using (var other = DocumentStore.For(o => ServerStore.Configure(o, App.ConnectionString)))
        await using (var session = other.LightweightSession())
        {
            var stream = await session.Events.FetchForExclusiveWriting<Network>(net);
            stream.AppendOne(new PeerRemoved(net, agent.PeerId, Actor.System, DateTimeOffset.UtcNow));
            await session.SaveChangesAsync();
            version = (await session.Events.FetchStreamStateAsync(net))!.Version;
        }
        Assert.Equal(HttpStatusCode.OK, (await agent.Client.GetAsync("/api/v1/agent/config")).StatusCode);

        // Its notice arrives reduced ("full"): every session and socket of the network is re-checked.
        var notice = new ChangeNotice(Guid.NewGuid(), new NetworkChanged(net, version, [], [], false, Full: true));
        await using (var connection = new NpgsqlConnection(App.ConnectionString))
        {
            await connection.OpenAsync();
            await using var notify = new NpgsqlCommand("select pg_notify(@channel, @payload)", connection);
            notify.Parameters.AddWithValue("channel", ChangeFeed.Channel);
            notify.Parameters.AddWithValue("payload", App.Services.GetRequiredService<NoticeSigner>().Sign(notice.ToPayload()));
            await notify.ExecuteNonQueryAsync();
        }

        // Well inside the credential cache's 15 s TTL: the notice, not the expiry, revokes it.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while ((await agent.Client.GetAsync("/api/v1/agent/config")).StatusCode != HttpStatusCode.Unauthorized)
        {
            Assert.True(DateTime.UtcNow < deadline, "the revoked session was still accepted 5 s after the notice");
            await Task.Delay(20);
        }
        // (A push of the enrollment's config may come first.)
        while ((await ReceiveAsync(socket)).Type != WebSocketMessageType.Close) { }
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, socket.CloseStatus);
    }

    [Fact]
    public async Task after_the_change_feed_reconnects_nothing_cached_before_the_gap_is_trusted()
    {
        var (net, x, y) = await MeshedPairAsync();
        using var socket = await App.ConnectAgentSocketAsync(x.SessionToken);
        Assert.Equal(HttpStatusCode.OK, (await y.Client.GetAsync("/api/v1/agent/config")).StatusCode);

        // A change whose notice this instance never hears: y is deleted (x's config changes, y's session is revoked).
        await using (var other = DocumentStore.For(o => ServerStore.Configure(o, App.ConnectionString)))
        await using (var session = other.LightweightSession())
        {
            var stream = await session.Events.FetchForExclusiveWriting<Network>(net);
            stream.AppendOne(new PeerRemoved(net, y.PeerId, Actor.System, DateTimeOffset.UtcNow));
            await session.SaveChangesAsync();
        }
        Assert.Equal(HttpStatusCode.OK, (await y.Client.GetAsync("/api/v1/agent/config")).StatusCode); // stale, as expected

        // The feed's connection dies (a PostgreSQL restart, a proxy timeout); the listener reconnects.
        await using (var connection = new NpgsqlConnection(App.ConnectionString))
        {
            await connection.OpenAsync();
            await using var kill = new NpgsqlCommand(
                "select count(pg_terminate_backend(pid)) from pg_stat_activity where application_name = 'wirety-change-feed' and datname = current_database()",
                connection);
            Assert.Equal(1L, await kill.ExecuteScalarAsync());
        }

        // The re-check after the reconnect tells x its current version (after older pushes, if any are still under way).
        string current;
        await using (var query = App.Store.QuerySession()) // the database, not the server's (possibly stale) cache
            current = (await query.LoadAsync<Wirety.Projections.Configs.ConfigSource>(net))!.VersionOf(x.PeerId).ToString();
        while (await ReceiveAsync(socket) is var (type, version) && version != current)
            Assert.Equal(WebSocketMessageType.Text, type);
        Assert.Empty((await AgentConfigAsync(x)).GetProperty("peers").EnumerateArray());
        await AssertProblemAsync(await y.Client.GetAsync("/api/v1/agent/config"), 401);
        Assert.Equal(HttpStatusCode.OK, (await App.Client(null).GetAsync("/readyz")).StatusCode);
        Assert.Contains(App.Logs, l => l.Contains("Listening for changes again", StringComparison.Ordinal));
    }
}
