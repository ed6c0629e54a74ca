using System.Buffers.Text;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NSec.Cryptography;
using Wirety.Events.Agent;
using Wirety.Projections.Configs;
using Wirety.Server.Peers;
using Wirety.Testing;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Agents;

/// <summary>
/// The delta protocol end to end (issue 15): agents enrolled over HTTP, delta sockets opened through the real pipeline,
/// admin changes over the API. Each agent applies what arrives as the contract says (only when its version is the
/// envelope's previous one) and must end with exactly the config it then fetches.
/// </summary>
public sealed class AgentDeltaTests(WiretyApp app) : AgentTest(app)
{
    private sealed class DeltaAgent(Enrolled enrolled, PublicKey signingKey, WebSocket socket, AgentConfig config)
    {
        public Enrolled Agent { get; } = enrolled;
        public PublicKey SigningKey { get; } = signingKey;
        public WebSocket Socket { get; } = socket;
        public AgentConfig Config { get; set; } = config;
        public int Received { get; set; }
    }

    [Fact]
    public async Task delta_agents_receive_signed_envelopes_that_turn_their_config_into_the_new_one()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var (a, keyA) = await EnrollWithSigningKeyAsync(await TokenForAsync(net, "a"));
        var (b, keyB) = await EnrollWithSigningKeyAsync(await TokenForAsync(net, "b"));
        Assert.Equal(keyA, keyB); // one key per database
        Assert.Equal(32, Base64Url.DecodeFromChars(keyA).Length);
        await HeartbeatAsync(a, 51001, ["198.18.0.11:51001"]);
        await HeartbeatAsync(b, 51002, ["198.18.0.12:51002"]);

        using var plain = await App.ConnectAgentSocketAsync(a.SessionToken); // no ?deltas=1: config-changed as before
        var da = await ConnectDeltasAsync(a, keyA);
        var db = await ConnectDeltasAsync(b, keyB);

        // The first change this instance handles for the network with delta agents here: c has no key yet, so it is in
        // no config (and nothing is sent). From here on this instance has the state each change starts from.
        var cToken = await AndCascadesAsync(() => TokenForAsync(net, "c"));
        await ExpectAsync([], da, db);

        var c = await AndCascadesAsync(() => EnrollAsync(cToken)); // c's endpoint is not known: still in no member's config
        await ExpectAsync([], da, db);

        await HeartbeatAsync(c, 51003, ["198.18.0.13:51003"]); // now it is: a direct entry
        await ExpectAsync([AgentDeltaTypes.PeerAdded], da, db);

        // A commit that changes no config (a new enrollment token for a peer not enrolled yet) sends no notice at all;
        // the next change is still a delta.
        var d = (await CreatePeerAsync(net, new { name = "d", kind = "dynamic" })).GetProperty("id").GetGuid();
        await ExpectAsync([], da, db);
        await AdminAsync(() => Admin.PostAsync($"/api/v1/networks/{net}/peers/{d}/enrollment-token", null));

        await AdminAsync(() => Admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers/{c.PeerId}/block", new { reason = "test" }));
        await ExpectAsync([AgentDeltaTypes.PeerRemoved], da, db);

        await AdminAsync(() => Admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers/{c.PeerId}/unblock", new { reason = "test" }));
        await ExpectAsync([AgentDeltaTypes.PeerAdded], da, db);

        App.Clock.Advance(TimeSpan.FromMinutes(10)); // past the interval between two endpoint changes of one peer
        await HeartbeatAsync(c, 51003, ["198.18.0.99:51003"]);
        await ExpectAsync([AgentDeltaTypes.PeerUpdated], da, db);
        Assert.Contains(da.Config.Peers, p => p.Id == c.PeerId && p.Endpoint == "198.18.0.99:51003");

        await AdminAsync(() => Admin.DeleteAsync($"/api/v1/networks/{net}/peers/{c.PeerId}"));
        await ExpectAsync([AgentDeltaTypes.PeerRemoved], da, db);

        // Under deny the packet filters change: that goes as the whole config.
        await AdminAsync(() => Admin.PatchAsJsonAsync($"/api/v1/networks/{net}", new { defaultPolicy = "deny" }));
        await ExpectAsync([AgentDeltaTypes.ConfigReplaced], da, db);

        // The plain socket heard config-changed notices only, up to a's current version.
        while (true)
        {
            var message = JsonDocument.Parse(await ReceiveTextAsync(plain)).RootElement;
            Assert.Equal(AgentMessage.ConfigChanged, message.GetProperty("type").GetString());
            Assert.False(message.TryGetProperty("signature", out _));
            if (message.GetProperty("version").GetString() == da.Config.Version) break;
        }
    }

    [Fact]
    public async Task changes_in_quick_succession_still_reach_a_delta_agent_as_a_chain_of_deltas()
    {
        var (net, a, b) = await MeshedPairAsync();
        var key = await SigningKeyAsync(net);
        var da = await ConnectDeltasAsync(a, key);
        await AdminAsync(() => Admin.PatchAsJsonAsync($"/api/v1/networks/{net}", new { mtu = 1400 })); // starts this instance's line
        await ExpectAsync([AgentDeltaTypes.ConfigReplaced], da); // a resync: previousVersion 0

        // The commits land before their notices are handled: each is still diffed from the state just before it.
        await AndCascadesAsync(async () =>
        {
            Assert.True((await Admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers/{b.PeerId}/block", new { reason = "test" })).IsSuccessStatusCode);
            Assert.True((await Admin.PatchAsJsonAsync($"/api/v1/networks/{net}", new { mtu = 1380 })).IsSuccessStatusCode);
            return (await Admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers/{b.PeerId}/unblock", new { reason = "test" })).IsSuccessStatusCode;
        });
        await ExpectAsync([AgentDeltaTypes.PeerRemoved, AgentDeltaTypes.InterfaceChanged, AgentDeltaTypes.PeerAdded], da);
    }

    [Fact]
    public async Task an_agent_that_connects_later_is_told_of_its_next_change_even_when_that_undoes_the_one_it_missed()
    {
        var (net, a, b) = await MeshedPairAsync();
        var key = await SigningKeyAsync(net);
        var da = await ConnectDeltasAsync(a, key);
        await AdminAsync(() => Admin.PatchAsJsonAsync($"/api/v1/networks/{net}", new { mtu = 1400 })); // starts this instance's line
        await ExpectAsync([AgentDeltaTypes.ConfigReplaced], da);

        await AdminAsync(() => Admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers/{b.PeerId}/block", new { reason = "test" }));
        await ExpectAsync([AgentDeltaTypes.PeerRemoved], da);
        var db = await ConnectDeltasAsync(b, key); // b's config changed (blocked) while it had no delta socket here

        // Unblocking gives b back the config it had before the block.
        await AdminAsync(() => Admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers/{b.PeerId}/unblock", new { reason = "test" }));
        await ExpectAsync([AgentDeltaTypes.PeerAdded], da);
        await ExpectAsync([AgentDeltaTypes.ConfigReplaced], db); // its previous version is not known here: a resync
    }

    [Fact]
    public async Task after_a_gap_in_the_change_feed_a_delta_agent_gets_its_whole_config_as_a_resync()
    {
        var (net, a, _) = await MeshedPairAsync();
        var da = await ConnectDeltasAsync(a, await SigningKeyAsync(net));
        var feed = App.Services.GetRequiredService<Wirety.Server.Changes.ChangeFeed>();
        await AndCascadesAsync(async () =>
        {
            await feed.ResyncAsync(listening: true, recheckSockets: true); // what the listener does after reconnecting
            return true;
        });

        var envelope = JsonSerializer.Deserialize(await ReceiveTextAsync(da.Socket), AgentProtocolJson.Default.AgentEnvelope)!;
        Assert.Equal((AgentDeltaTypes.ConfigReplaced, 0L), (envelope.Type, envelope.PreviousVersion));
        Assert.True(SignatureAlgorithm.Ed25519.Verify(da.SigningKey, AgentEnvelopeSigning.SignedBytes(a.PeerId, envelope.Type, envelope.NetworkVersion,
            envelope.PreviousVersion, envelope.Payload.GetRawText()), Base64Url.DecodeFromChars(envelope.Signature)));
        Assert.Equal(da.Config.Version, envelope.NetworkVersion.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(Canonical(da.Config), Canonical(JsonSerializer.Deserialize(envelope.Payload.GetRawText(), AgentProtocolJson.Default.AgentConfig)!));
    }

    [Fact]
    public async Task an_envelope_is_bound_to_its_recipient()
    {
        var (net, a, b) = await MeshedPairAsync();
        var key = PublicKey.Import(SignatureAlgorithm.Ed25519, Base64Url.DecodeFromChars(await SigningKeyAsync(net)), KeyBlobFormat.RawPublicKey);
        using var socket = await App.ConnectAgentSocketAsync(a.SessionToken, "?deltas=1");
        await AndCascadesAsync(() => Admin.PostAsJsonAsync($"/api/v1/networks/{net}/peers/{b.PeerId}/block", new { reason = "test" }));

        var envelope = JsonDocument.Parse(await ReceiveTextAsync(socket)).RootElement;
        var (type, version, previous) = (envelope.GetProperty("type").GetString()!, envelope.GetProperty("networkVersion").GetInt64(),
            envelope.GetProperty("previousVersion").GetInt64());
        var payload = envelope.GetProperty("payload").GetRawText();
        var signature = Base64Url.DecodeFromChars(envelope.GetProperty("signature").GetString()!);
        Assert.True(SignatureAlgorithm.Ed25519.Verify(key, AgentEnvelopeSigning.SignedBytes(a.PeerId, type, version, previous, payload), signature));
        Assert.False(SignatureAlgorithm.Ed25519.Verify(key, AgentEnvelopeSigning.SignedBytes(b.PeerId, type, version, previous, payload), signature));
        Assert.False(SignatureAlgorithm.Ed25519.Verify(key, AgentEnvelopeSigning.SignedBytes(a.PeerId, type, version + 1, previous, payload), signature));
    }

    [Fact]
    public async Task the_signing_key_lives_outside_the_event_store_and_backups_and_only_its_public_half_is_served()
    {
        var (net, _) = await NetworkWithJumpAsync();
        var served = await SigningKeyAsync(net);
        await using var conn = new Npgsql.NpgsqlConnection(App.ConnectionString);
        await conn.OpenAsync();
        await using var read = new Npgsql.NpgsqlCommand($"select key from {Wirety.Projections.WiretyStore.Schema}.{Wirety.Server.AgentDeltas.AgentSigningKey.TableName}", conn);
        var seed = (byte[])(await read.ExecuteScalarAsync())!;
        using var key = Key.Import(SignatureAlgorithm.Ed25519, seed, KeyBlobFormat.RawPrivateKey);
        Assert.Equal(Base64Url.EncodeToString(key.PublicKey.Export(KeyBlobFormat.RawPublicKey)), served);

        Assert.DoesNotContain(Wirety.Server.AgentDeltas.AgentSigningKey.TableName, new Wirety.Server.Operations.StoreLayout(App.Store).BackedUpTables);
        var seedText = Base64Url.EncodeToString(seed);
        Assert.DoesNotContain(await App.AllStoredTextAsync(), text => text.Contains(seedText) || text.Contains(Convert.ToBase64String(seed)));
    }

    /// <summary>An admin request that must succeed, once the change's notices have been handled.</summary>
    private async Task AdminAsync(Func<Task<HttpResponseMessage>> request)
    {
        var response = await AndCascadesAsync(request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Reads each agent's envelopes until it holds the config the server now serves it, and checks what it applied.</summary>
    private async Task ExpectAsync(string[] types, params DeltaAgent[] agents)
    {
        foreach (var agent in agents)
        {
            var fetched = JsonSerializer.Deserialize((await AgentConfigAsync(agent.Agent)).GetRawText(), AgentProtocolJson.Default.AgentConfig)!;
            var applied = new List<string>();
            while (agent.Config.Version != fetched.Version)
            {
                var text = await ReceiveTextAsync(agent.Socket);
                agent.Received++;
                var envelope = JsonSerializer.Deserialize(text, AgentProtocolJson.Default.AgentEnvelope)!;
                Assert.True(SignatureAlgorithm.Ed25519.Verify(agent.SigningKey,
                    AgentEnvelopeSigning.SignedBytes(agent.Agent.PeerId, envelope.Type, envelope.NetworkVersion, envelope.PreviousVersion,
                        envelope.Payload.GetRawText()),
                    Base64Url.DecodeFromChars(envelope.Signature)), $"bad signature on {text}");
                // previousVersion 0 (only on config-replaced): the server did not know the version before; the agent resyncs.
                if (envelope.PreviousVersion != 0 || envelope.Type != AgentDeltaTypes.ConfigReplaced)
                    Assert.Equal(agent.Config.Version, envelope.PreviousVersion.ToString(System.Globalization.CultureInfo.InvariantCulture));
                agent.Config = Apply(agent.Config, envelope) with { Version = envelope.NetworkVersion.ToString(System.Globalization.CultureInfo.InvariantCulture) };
                applied.Add(envelope.Type);
            }
            Assert.Equal(types, applied);
            Assert.Equal(Canonical(fetched), Canonical(agent.Config));
        }
    }

    private static AgentConfig Apply(AgentConfig config, AgentEnvelope envelope)
    {
        var json = envelope.Payload.GetRawText();
        if (envelope.Type == AgentDeltaTypes.ConfigReplaced) return JsonSerializer.Deserialize(json, AgentProtocolJson.Default.AgentConfig)!;
        if (envelope.Type == AgentDeltaTypes.InterfaceChanged)
            return config with { Interface = JsonSerializer.Deserialize(json, AgentProtocolJson.Default.AgentInterface)! };
        var change = JsonSerializer.Deserialize(json, AgentProtocolJson.Default.AgentPeerChange)!;
        var peers = config.Peers.Where(p => p.Id != change.PeerId).ToList();
        if (envelope.Type is AgentDeltaTypes.PeerRemoved or AgentDeltaTypes.PeerKeyRotated)
            Assert.Equal(change.PublicKey, config.Peers.Single(p => p.Id == change.PeerId).PublicKey);
        if (envelope.Type != AgentDeltaTypes.PeerRemoved) peers.Add(change.Peer!);
        return config with { Peers = peers };
    }

    private static string Canonical(AgentConfig config) =>
        AgentConfigMapper.Serialize(config with { Peers = config.Peers.OrderBy(p => p.Id).ToList() });

    private async Task<DeltaAgent> ConnectDeltasAsync(Enrolled agent, string signingKey)
    {
        var socket = await App.ConnectAgentSocketAsync(agent.SessionToken, "?deltas=1");
        // Connected first, then fetched: every change after this fetch reaches the socket.
        var config = JsonSerializer.Deserialize((await AgentConfigAsync(agent)).GetRawText(), AgentProtocolJson.Default.AgentConfig)!;
        return new DeltaAgent(agent, PublicKey.Import(SignatureAlgorithm.Ed25519, Base64Url.DecodeFromChars(signingKey), KeyBlobFormat.RawPublicKey),
            socket, config);
    }

    private async Task<(Enrolled Agent, string SigningKey)> EnrollWithSigningKeyAsync(string token)
    {
        var keys = WireGuardKeyPair.Generate();
        var response = await App.Client(null).PostAsJsonAsync("/api/v1/agent/enroll", new { token, publicKey = keys.PublicKey, hostname = "host", agentVersion = "test" });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var body = await BodyAsync(response);
        var session = body.GetProperty("sessionToken").GetString()!;
        var enrolled = new Enrolled(body.GetProperty("peerId").GetGuid(), body.GetProperty("networkId").GetGuid(), session,
            body.GetProperty("config"), keys.PublicKey, App.Client(session));
        // Every entry of every config names its peer.
        Assert.All(body.GetProperty("config").GetProperty("peers").EnumerateArray(), p => Assert.Equal(JsonValueKind.String, p.GetProperty("id").ValueKind));
        return (enrolled, body.GetProperty("signingKey").GetString()!);
    }

    private async Task<string> SigningKeyAsync(Guid net) => (await EnrollWithSigningKeyAsync(await TokenForAsync(net, "probe"))).SigningKey;

    private static async Task<string> ReceiveTextAsync(WebSocket socket)
    {
        var buffer = new byte[64 * 1024];
        var used = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(used), timeout.Token);
            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            used += result.Count;
            if (result.EndOfMessage) return System.Text.Encoding.UTF8.GetString(buffer, 0, used);
        }
    }
}
