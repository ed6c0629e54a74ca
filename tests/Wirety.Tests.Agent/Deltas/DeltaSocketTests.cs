using Wirety.Agent.Cli;
using Wirety.Agent.Identity;
using Wirety.Agent.Running;
using Wirety.Agent.State;
using Wirety.Agent.WireGuard;
using Wirety.Events.Agent;
using Wirety.Tests.Agent.Fakes;
using static Wirety.Tests.Agent.TestData;

namespace Wirety.Tests.Agent.Deltas;

/// <summary>
/// The whole <c>run</c> against a loopback server over real HTTP and a real WebSocket: with a pinned signing key it
/// asks for deltas, applies a signed one without fetching, fetches the whole config on a gap or a bad signature,
/// and switches to a key pair that <c>rotate-key</c> wrote. Without a pinned key it keeps the old protocol.
/// </summary>
public sealed class DeltaSocketTests : IAsyncDisposable
{
    private const string If = "wirety0";
    private static readonly Guid JumpId = Guid.NewGuid();
    private static readonly Guid LaptopId = Guid.NewGuid();
    private static readonly Guid PhoneId = Guid.NewGuid();
    private static readonly Guid PrinterId = Guid.NewGuid();
    private readonly FakeAgentServer _server = new();
    private readonly DeltaSigner _signer = new();
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("wirety-agent-test-");
    private readonly InMemoryWireGuard _wg = new();
    private readonly StringWriter _log = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Guid _me = Guid.NewGuid();
    private Task<int>? _run;

    private static AgentPeer Printer() => new(PrinterKey, "192.0.2.12:51820", ["198.18.0.12/32"], 25, PrinterId);

    private static AgentConfig Version(long version, params AgentPeer[] peers) => Config(version.ToString(System.Globalization.CultureInfo.InvariantCulture), peers);

    private static readonly AgentPeer[] Start = [Jump() with { Id = JumpId }, Laptop() with { Id = LaptopId }, Phone() with { Id = PhoneId }];

    private StateStore StartAgent(string? signingKey)
    {
        var store = new StateStore(_dir.FullName);
        var identity = new AgentIdentity(_server.Url, _me, Guid.NewGuid(), KeyPair.Generate(), new Secret("wst_session"), "host", DateTimeOffset.UnixEpoch,
            "dynamic", signingKey);
        store.SaveIdentity(identity);
        store.SaveConfig(new SavedConfig(Version(7, Start), "\"7\"", DateTimeOffset.UnixEpoch));
        _server.Config = Version(7, Start);
        var options = new RunOptions(_dir.FullName, If, false, TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(10), [], true);
        var log = new Wirety.Agent.Logging.AgentLog(TextWriter.Synchronized(_log), TimeProvider.System, Wirety.Agent.Logging.LogLevel.Debug);
        _run = Task.Run(() => new AgentRunner(options, identity, store, _wg, new RecordingForwarding(), new RecordingFilter(), log, TimeProvider.System)
            .RunAsync(_stop.Token));
        return store;
    }

    /// <summary>Waits for a condition the agent brings about (its loops run on their own), failing after 20 s.</summary>
    private async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (_run is { IsCompleted: true }) Assert.Fail($"the agent stopped while waiting for: {what}\n{_log}");
            try
            {
                if (await condition()) return;
            }
            catch (InvalidOperationException)
            {
                // the in-memory interface changed under the reader; look again
            }
            await Task.Delay(25);
        }
        Assert.Fail($"timed out waiting for: {what}\n{_log}");
    }

    private async Task<IReadOnlyList<string>> PeerKeys() =>
        (await _wg.ReadAsync(If, default))?.Device.Peers.Select(p => p.PublicKey).ToList() ?? [];

    /// <summary>Up with the saved config, the socket open, and both start-up fetches (start, connect) answered.</summary>
    private async Task Settled()
    {
        await _server.Connected.WaitAsync(TimeSpan.FromSeconds(20));
        await Eventually(() => Task.FromResult(_server.ConfigRequests >= 2), "the fetches at start and on connect");
        await Eventually(async () => (await PeerKeys()).Count == 3, "the saved config applied");
    }

    [Fact]
    public async Task a_signed_delta_is_applied_without_a_fetch_and_a_gap_or_a_bad_signature_fetches_the_whole_config()
    {
        var store = StartAgent(_signer.PublicKey);
        await Settled();
        Assert.Equal("?deltas=1", _server.SocketQuery);
        var requests = _server.ConfigRequests;

        // peer-added 7 → 8: applied from the envelope alone.
        _server.Config = Version(8, [.. Start, Printer()]);
        await _server.SendAsync(DeltaSigner.Wire(_signer.PeerChange(_me, AgentDeltaTypes.PeerAdded, 8, 7, new AgentPeerChange(PrinterId, Printer()))));
        await Eventually(async () => (await PeerKeys()).Contains(PrinterKey), "the added peer on the interface");
        await Eventually(() => Task.FromResult(store.LoadConfig()?.Config.Version == "8"), "config.json at version 8");
        Assert.Equal(requests, _server.ConfigRequests);
        Assert.Contains(store.LoadConfig()!.Config.Peers, p => p.Id == PrinterId);

        // A gap (it follows 9, the agent holds 8): the whole config is fetched instead.
        _server.Config = Version(10, Jump() with { Id = JumpId }, Laptop() with { Id = LaptopId }, Printer());
        await _server.SendAsync(DeltaSigner.Wire(_signer.PeerChange(_me, AgentDeltaTypes.PeerRemoved, 10, 9, new AgentPeerChange(PhoneId, null, PhoneKey))));
        await Eventually(() => Task.FromResult(_server.ConfigRequests == requests + 1), "a full fetch after the gap");
        await Eventually(async () => !(await PeerKeys()).Contains(PhoneKey), "the fetched config applied");
        await Eventually(() => Task.FromResult(store.LoadConfig()?.Config.Version == "10"), "config.json at version 10");

        // Signed with another key: dropped, logged, and the whole config fetched.
        using var impostor = new DeltaSigner();
        var forged = KeyPair.Generate().PublicKey;
        var forgedId = Guid.NewGuid();
        await _server.SendAsync(DeltaSigner.Wire(impostor.PeerChange(_me, AgentDeltaTypes.PeerAdded, 11, 10,
            new AgentPeerChange(forgedId, new AgentPeer(forged, "192.0.2.66:51820", ["198.18.0.66/32"], 25, forgedId)))));
        await Eventually(() => Task.FromResult(_server.ConfigRequests == requests + 2), "a full fetch after the bad signature");
        // Signed for another agent: the same.
        await _server.SendAsync(DeltaSigner.Wire(_signer.PeerChange(Guid.NewGuid(), AgentDeltaTypes.PeerAdded, 11, 10,
            new AgentPeerChange(forgedId, new AgentPeer(forged, "192.0.2.66:51820", ["198.18.0.66/32"], 25, forgedId)))));
        await Eventually(() => Task.FromResult(_server.ConfigRequests == requests + 3), "a full fetch after the misaddressed envelope");

        Assert.DoesNotContain(_wg.Calls.ToArray(), c => c.Contains(forged, StringComparison.Ordinal));
        Assert.DoesNotContain(forged, await PeerKeys());
        Assert.Contains("without a valid signature", _log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_delta_too_large_for_the_socket_is_dropped_for_a_fetch_and_the_socket_stays()
    {
        StartAgent(_signer.PublicKey);
        await Settled();
        var requests = _server.ConfigRequests;
        // About 900 peer entries: well over the 64 KiB a socket message may have.
        var many = Enumerable.Range(0, 900)
            .Select(i => new AgentPeer(KeyPair.Generate().PublicKey, null, [$"198.19.{i / 250}.{i % 250 + 1}/32"], 25, Guid.NewGuid()))
            .ToArray();
        var whole = Version(8, [.. Start, .. many]);
        _server.Config = whole;
        var envelope = _signer.Sign(_me, AgentDeltaTypes.ConfigReplaced, 8, 7,
            System.Text.Json.JsonSerializer.SerializeToElement(whole, AgentProtocolJson.Default.AgentConfig));
        Assert.True(DeltaSigner.Wire(envelope).Length > 64 * 1024);

        await _server.SendAsync(DeltaSigner.Wire(envelope));
        await Eventually(() => Task.FromResult(_server.ConfigRequests == requests + 1), "a full fetch instead");
        await Eventually(async () => (await PeerKeys()).Count == 903, "the fetched config applied");

        // The same socket still carries the next delta.
        await _server.SendAsync(DeltaSigner.Wire(_signer.PeerChange(_me, AgentDeltaTypes.PeerAdded, 9, 8, new AgentPeerChange(PrinterId, Printer()))));
        await Eventually(async () => (await PeerKeys()).Contains(PrinterKey), "the next delta applied");
        Assert.Equal(1, _server.SocketConnections);
        Assert.Equal(requests + 1, _server.ConfigRequests);
    }

    [Fact]
    public async Task an_identity_without_a_pinned_key_keeps_the_old_protocol()
    {
        StartAgent(signingKey: null);
        await Settled();

        Assert.Equal("", _server.SocketQuery);
        Assert.Contains("deltas off", _log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_running_agent_switches_to_the_key_pair_rotate_key_wrote()
    {
        var store = StartAgent(_signer.PublicKey);
        await Settled();
        var before = (await _wg.ReadAsync(If, default))!.Device.PublicKey;
        _server.RotateKey = request => (200, System.Text.Json.JsonSerializer.Serialize(
            new RotateKeyResponse(Version(9, Start)), AgentProtocolJson.Default.RotateKeyResponse));

        var exit = await RotateKey.RunAsync(new RotateKeyCommand(_dir.FullName), TextWriter.Null, Log(), TimeProvider.System, default);

        Assert.Equal(0, exit);
        var rotated = store.LoadIdentity().Keys.PublicKey;
        Assert.NotEqual(before, rotated);
        Assert.Equal(rotated, Assert.Single(_server.RotateRequests)!.PublicKey);
        await Eventually(async () => (await _wg.ReadAsync(If, default))!.Device.PublicKey == rotated, "the new private key on the interface");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_run is not null)
        {
            try { await _run.WaitAsync(TimeSpan.FromSeconds(30)); }
            catch (OperationCanceledException) { }
        }
        await _server.DisposeAsync();
        _signer.Dispose();
        _stop.Dispose();
        _dir.Delete(recursive: true);
    }
}
