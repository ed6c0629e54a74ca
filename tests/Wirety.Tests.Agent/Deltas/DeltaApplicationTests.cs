using System.Text.Json;
using Wirety.Agent.Deltas;
using Wirety.Agent.Identity;
using Wirety.Agent.Running;
using Wirety.Events.Agent;
using Wirety.Tests.Agent.Fakes;
using static Wirety.Tests.Agent.TestData;

namespace Wirety.Tests.Agent.Deltas;

/// <summary>
/// A verified delta changes the config by peer id and the interface by targeted steps only; the result is the same
/// interface a full pass over the new config gives. A gap, or a delta the config cannot take, asks for a full fetch.
/// </summary>
public sealed class DeltaApplicationTests : IDisposable
{
    private const string If = "wirety0";
    private static readonly Guid JumpId = Guid.NewGuid();
    private static readonly Guid LaptopId = Guid.NewGuid();
    private static readonly Guid PhoneId = Guid.NewGuid();
    private static readonly Guid PrinterId = Guid.NewGuid();
    private readonly DeltaSigner _server = new();
    private readonly Guid _me = Guid.NewGuid();
    private readonly InMemoryWireGuard _wg = new();
    private readonly RecordingFilter _filter = new();
    private readonly RecordingForwarding _forwarding = new();

    private static AgentConfig Start() =>
        Config("7", Jump() with { Id = JumpId }, Laptop() with { Id = LaptopId }, Phone() with { Id = PhoneId });

    private static AgentPeer Printer() => new(PrinterKey, "192.0.2.12:51820", ["198.18.0.12/32"], 25, PrinterId);

    private AgentEnvelope Change(string type, long next, long previous, AgentPeerChange change) =>
        DeltaSigner.RoundTrip(_server.PeerChange(_me, type, next, previous, change));

    private AgentEnvelope Signed<T>(string type, long next, long previous, T payload, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info) =>
        DeltaSigner.RoundTrip(_server.Sign(_me, type, next, previous, JsonSerializer.SerializeToElement(payload, info)));

    /// <summary>Converges a fresh pass to <see cref="Start"/>, then applies <paramref name="envelope"/> as the run loop does.</summary>
    private async Task<(DeltaResult Delta, PassResult Pass, List<string> Calls, int FilterCalls)> ApplyAfterStart(AgentEnvelope envelope, KeyPair? keys = null)
    {
        var pass = new InterfacePass(_wg, _forwarding, _filter, If, keys ?? Self, Log());
        Assert.True((await pass.ApplyAsync(Start(), default)).Succeeded);
        _wg.Calls.Clear();
        var filterCalls = _filter.Calls;
        var delta = DeltaApplication.Apply(Start(), envelope);
        Assert.Equal(DeltaOutcome.Applied, delta.Outcome);
        var result = await pass.ApplyDeltaAsync(delta.Config!, delta.FullPass, default);
        return (delta, result, [.. _wg.Calls], _filter.Calls - filterCalls);
    }

    /// <summary>What a full pass over <paramref name="config"/> on a fresh interface gives.</summary>
    private static async Task<string> FullPass(AgentConfig config)
    {
        var wg = new InMemoryWireGuard();
        var pass = new InterfacePass(wg, new RecordingForwarding(), new RecordingFilter(), If, Self, Log());
        Assert.True((await pass.ApplyAsync(config, default)).Succeeded);
        return Describe(await wg.ReadAsync(If, default)).Split('\n', 2)[1]; // without the first line: the listen port is random
    }

    private async Task<string> Now() => Describe(await _wg.ReadAsync(If, default)).Split('\n', 2)[1];

    [Fact]
    public async Task peer_added_sets_that_one_peer_and_its_route()
    {
        var (delta, pass, calls, filterCalls) = await ApplyAfterStart(Change(AgentDeltaTypes.PeerAdded, 8, 7, new AgentPeerChange(PrinterId, Printer())));

        Assert.True(pass.Succeeded);
        Assert.Equal("8", delta.Config!.Version);
        Assert.Equal(4, delta.Config.Peers.Count);
        // 198.18.0.12/32 lies inside the jump's 198.18.0.0/24 route, so no new route is needed.
        Assert.Equal([$"set-peer {If} {PrinterKey}"], calls);
        Assert.Equal(0, filterCalls);
        Assert.Equal(await FullPass(delta.Config), await Now());
    }

    [Fact]
    public async Task peer_updated_changes_only_that_peer()
    {
        var moved = Laptop("192.0.2.99:51820") with { Id = LaptopId, AllowedIps = ["198.18.0.10/32", "203.0.113.0/24"] };

        var (delta, pass, calls, filterCalls) = await ApplyAfterStart(Change(AgentDeltaTypes.PeerUpdated, 8, 7, new AgentPeerChange(LaptopId, moved)));

        Assert.True(pass.Succeeded);
        Assert.Equal([$"set-peer {If} {LaptopKey}", $"add-route {If} 203.0.113.0/24"], calls);
        Assert.Equal(0, filterCalls);
        Assert.Equal(await FullPass(delta.Config!), await Now());
        Assert.Contains("192.0.2.99:51820", await Now(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task peer_removed_removes_that_peer_by_its_id()
    {
        var (delta, pass, calls, _) = await ApplyAfterStart(Change(AgentDeltaTypes.PeerRemoved, 8, 7, new AgentPeerChange(PhoneId, null, PhoneKey)));

        Assert.True(pass.Succeeded);
        Assert.DoesNotContain(delta.Config!.Peers, p => p.Id == PhoneId);
        Assert.Equal([$"remove-peer {If} {PhoneKey}", $"remove-route {If} 198.18.7.0/24"], calls);
        Assert.Equal(await FullPass(delta.Config), await Now());
    }

    [Fact]
    public async Task peer_key_rotated_removes_the_old_key_and_adds_the_new()
    {
        var newKey = KeyPair.Generate().PublicKey;
        var rotated = Laptop() with { Id = LaptopId, PublicKey = newKey };

        var (delta, pass, calls, _) = await ApplyAfterStart(Change(AgentDeltaTypes.PeerKeyRotated, 8, 7, new AgentPeerChange(LaptopId, rotated, LaptopKey)));

        Assert.True(pass.Succeeded);
        Assert.Equal([$"remove-peer {If} {LaptopKey}", $"set-peer {If} {newKey}"], calls);
        Assert.Equal(await FullPass(delta.Config!), await Now());
        Assert.DoesNotContain(LaptopKey, await Now(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task interface_changed_touches_only_the_interface()
    {
        var section = new AgentInterface("198.18.0.6/32", 51821, 1380, []);

        var (delta, pass, calls, filterCalls) = await ApplyAfterStart(Signed(AgentDeltaTypes.InterfaceChanged, 8, 7, section, AgentProtocolJson.Default.AgentInterface));

        Assert.True(pass.Succeeded);
        Assert.Equal("198.18.0.6/32", delta.Config!.Interface.Address);
        Assert.Equal([$"listen-port {If} 51821", $"mtu {If} 1380", $"remove-address {If} 198.18.0.5/32", $"add-address {If} 198.18.0.6/32"], calls);
        Assert.Equal(0, filterCalls);
        Assert.Equal(await FullPass(delta.Config), await Now());
    }

    [Fact]
    public async Task config_replaced_is_a_full_pass_with_filter_and_forwarding()
    {
        var whole = Config("99", Jump() with { Id = JumpId }, Printer()) with
        {
            Filter = new AgentFilter([new AgentFilterRule(AgentFilterRule.Accept, [], [], ["tcp/22"])], null),
        };

        var (delta, pass, _, filterCalls) = await ApplyAfterStart(Signed(AgentDeltaTypes.ConfigReplaced, 8, 7, whole, AgentProtocolJson.Default.AgentConfig));

        Assert.True(pass.Succeeded);
        Assert.True(delta.FullPass);
        Assert.Equal("8", delta.Config!.Version); // the signed envelope's version, not the payload's
        Assert.Equal(1, filterCalls);
        Assert.NotNull(_filter.Applied);
        Assert.Equal(await FullPass(delta.Config), await Now());
    }

    [Fact]
    public void a_whole_config_newer_than_the_held_one_needs_no_predecessor()
    {
        // The server's first change after a restart, or after a feed gap: it does not know the agent's version.
        var whole = Config("12", Jump() with { Id = JumpId }, Printer());
        var resync = DeltaApplication.Apply(Start(), Signed(AgentDeltaTypes.ConfigReplaced, 12, 0, whole, AgentProtocolJson.Default.AgentConfig));
        var older = DeltaApplication.Apply(Start(), Signed(AgentDeltaTypes.ConfigReplaced, 7, 0, whole, AgentProtocolJson.Default.AgentConfig));
        var peerStep = DeltaApplication.Apply(Start(), Change(AgentDeltaTypes.PeerAdded, 12, 0, new AgentPeerChange(PrinterId, Printer())));

        Assert.Equal(DeltaOutcome.Applied, resync.Outcome);
        Assert.Equal("12", resync.Config!.Version);
        Assert.Equal([JumpId, PrinterId], resync.Config.Peers.Select(p => p.Id!.Value));
        Assert.Equal(DeltaOutcome.Stale, older.Outcome);
        Assert.Equal(DeltaOutcome.Resync, peerStep.Outcome); // a single entry still needs the chain
    }

    [Fact]
    public void intermediate_steps_keep_the_version_and_the_last_advances_it()
    {
        var removed = DeltaApplication.Apply(Start(), Change(AgentDeltaTypes.PeerRemoved, 7, 7, new AgentPeerChange(PhoneId, null, PhoneKey)));
        var added = DeltaApplication.Apply(removed.Config!, Change(AgentDeltaTypes.PeerAdded, 9, 7, new AgentPeerChange(PrinterId, Printer())));

        Assert.Equal("7", removed.Config!.Version);
        Assert.Equal(DeltaOutcome.Applied, added.Outcome);
        Assert.Equal("9", added.Config!.Version);
        Assert.Equal([JumpId, LaptopId, PrinterId], added.Config.Peers.Select(p => p.Id!.Value));
    }

    [Fact]
    public void a_gap_asks_for_a_full_fetch_and_an_old_envelope_is_ignored()
    {
        var gap = DeltaApplication.Apply(Start(), Change(AgentDeltaTypes.PeerAdded, 9, 8, new AgentPeerChange(PrinterId, Printer())));
        var stale = DeltaApplication.Apply(Start(), Change(AgentDeltaTypes.PeerAdded, 6, 5, new AgentPeerChange(PrinterId, Printer())));

        Assert.Equal(DeltaOutcome.Resync, gap.Outcome);
        Assert.Null(gap.Config);
        Assert.Contains("gap", gap.Detail, StringComparison.Ordinal);
        Assert.Equal(DeltaOutcome.Stale, stale.Outcome);
    }

    [Fact]
    public void a_delta_the_config_cannot_take_asks_for_a_full_fetch()
    {
        var unknownPeer = Guid.NewGuid();
        Assert.Equal(DeltaOutcome.Resync, DeltaApplication.Apply(Start(),
            Change(AgentDeltaTypes.PeerUpdated, 8, 7, new AgentPeerChange(unknownPeer, Printer() with { Id = unknownPeer }))).Outcome);
        // A second entry with a key another entry holds.
        Assert.Equal(DeltaOutcome.Resync, DeltaApplication.Apply(Start(),
            Change(AgentDeltaTypes.PeerAdded, 8, 7, new AgentPeerChange(PrinterId, Printer() with { PublicKey = LaptopKey }))).Outcome);
        // peer-updated may not change the key.
        Assert.Equal(DeltaOutcome.Resync, DeltaApplication.Apply(Start(),
            Change(AgentDeltaTypes.PeerUpdated, 8, 7, new AgentPeerChange(LaptopId, Laptop() with { Id = LaptopId, PublicKey = PrinterKey }))).Outcome);
        Assert.Equal(DeltaOutcome.Resync, DeltaApplication.Apply(Start(),
            Signed("peer-teleported", 8, 7, new AgentPeerChange(LaptopId, null), AgentProtocolJson.Default.AgentPeerChange)).Outcome);
        // A config from an older server has no ids: no entry can be addressed.
        Assert.Equal(DeltaOutcome.Resync, DeltaApplication.Apply(Config("7"),
            Change(AgentDeltaTypes.PeerUpdated, 8, 7, new AgentPeerChange(LaptopId, Laptop() with { Id = LaptopId }))).Outcome);
    }

    public void Dispose() => _server.Dispose();
}
