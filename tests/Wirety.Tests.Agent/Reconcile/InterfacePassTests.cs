using Wirety.Agent.Reconcile;
using Wirety.Agent.Running;
using Wirety.Agent.WireGuard;
using Wirety.Events.Addressing;
using Wirety.Events.Agent;
using Wirety.Tests.Agent.Fakes;
using static Wirety.Tests.Agent.TestData;

namespace Wirety.Tests.Agent.Reconcile;

/// <summary>Whole passes (config → plan → apply) against the in-memory WireGuard.</summary>
public class InterfacePassTests
{
    private const string If = "wirety0";
    private readonly InMemoryWireGuard _wg = new();
    private readonly RecordingForwarding _forwarding = new();
    private readonly RecordingFilter _filter = new();
    private readonly StringWriter _log = new();

    private InterfacePass NewPass() => new(_wg, _forwarding, _filter, If, Self, Log(_log));

    private async Task<InterfaceState> StateAsync() => (await _wg.ReadAsync(If, default))!;

    [Fact]
    public async Task applying_a_config_converges_the_interface_and_a_second_pass_changes_nothing()
    {
        var pass = NewPass();

        var first = await pass.ApplyAsync(Config(), default);
        var callsAfterFirst = _wg.Calls.Count;
        var second = await pass.ApplyAsync(Config(), default);

        Assert.True(first.Succeeded);
        Assert.True(second.Succeeded);
        Assert.Equal(0, second.Changes);
        Assert.Equal(callsAfterFirst, _wg.Calls.Count);
        var state = await StateAsync();
        Assert.Equal(Self.PublicKey, state.Device.PublicKey);
        Assert.Equal(51820, state.Device.ListenPort);
        Assert.True(state.IsUp);
        Assert.Equal([JumpKey, LaptopKey, PhoneKey], state.Device.Peers.Select(p => p.PublicKey));
        Assert.Equal(["198.18.0.0/24", "198.18.7.0/24"], state.Routes.Select(p => p.ToString()).Order());
    }

    [Fact]
    public async Task manual_drift_is_corrected_on_the_next_pass()
    {
        var pass = NewPass();
        await pass.ApplyAsync(Config(), default);
        var converged = await StateAsync();

        // What an admin might do by hand with wg and ip.
        await _wg.RemovePeerAsync(If, LaptopKey, default);
        await _wg.SetPeerAsync(If, new PeerSettings(JumpKey, null, [IpPrefix.Parse("198.19.200.0/24")], 0), default);
        await _wg.SetPeerAsync(If, new PeerSettings(PrinterKey, "192.0.2.50:1", [IpPrefix.Parse("198.18.0.12/32")], 0), default);
        await _wg.SetListenPortAsync(If, 1234, default);
        await _wg.RemoveRouteAsync(If, IpPrefix.Parse("198.18.7.0/24"), default);
        _wg.SetDown(If);

        var result = await pass.ApplyAsync(Config(), default);

        Assert.True(result.Succeeded);
        Assert.Equal(6, result.Changes);
        var state = await StateAsync();
        Assert.Equal(Describe(converged), Describe(state));
        Assert.True(Reconciler.Plan(DesiredState.From(Config(), Self.PublicKey), state).IsEmpty);
    }

    [Fact]
    public async Task a_prefix_moving_between_peers_ends_up_on_the_new_owner_only()
    {
        var pass = NewPass();
        await pass.ApplyAsync(Config("1", Jump(), Phone()), default);

        // 198.18.7.0/24 moves from the phone to the laptop (a route behind a different peer now).
        await pass.ApplyAsync(Config("2", Jump(),
            new AgentPeer(LaptopKey, "192.0.2.10:51820", ["198.18.0.10/32", "198.18.7.0/24"], 25),
            Phone() with { AllowedIps = ["198.18.0.11/32"] }), default);

        var peers = (await StateAsync()).Device.Peers.ToDictionary(p => p.PublicKey);
        Assert.Equal(["198.18.0.11/32"], peers[PhoneKey].AllowedIps.Select(p => p.ToString()));
        Assert.Equal(["198.18.0.10/32", "198.18.7.0/24"], peers[LaptopKey].AllowedIps.Select(p => p.ToString()));
    }

    [Fact]
    public async Task one_failing_step_does_not_stop_the_others_and_is_logged_once()
    {
        _wg.ForeignRoutes.Add(IpPrefix.Parse("198.18.7.0/24")); // a LAN route on another device
        var pass = NewPass();

        var first = await pass.ApplyAsync(Config(), default);
        await pass.ApplyAsync(Config(), default);

        Assert.False(first.Succeeded);
        var failure = Assert.Single(first.Failures);
        Assert.Contains("198.18.7.0/24", failure, StringComparison.Ordinal);
        Assert.Equal(3, (await StateAsync()).Device.Peers.Count);
        Assert.Single(_log.ToString().Split('\n'), l => l.Contains("already routed via eth0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task a_config_that_cannot_be_applied_leaves_the_interface_untouched()
    {
        var pass = NewPass();
        await pass.ApplyAsync(Config(), default);
        var before = await StateAsync();
        var calls = _wg.Calls.Count;

        var result = await pass.ApplyAsync(Config("2") with { Interface = new AgentInterface("", null, null, []) }, default);

        Assert.NotNull(result.Invalid);
        Assert.Equal(calls, _wg.Calls.Count);
        Assert.Equal(Describe(before), Describe(await StateAsync()));
    }

    [Fact]
    public async Task a_jump_peer_enables_forwarding_and_masquerades_its_fully_encapsulated_peers()
    {
        var pass = NewPass();
        var jump = new AgentConfig("1", "jump", new AgentInterface("198.18.0.1/32", 51820, null, []),
            [new AgentPeer(LaptopKey, null, ["198.18.0.10/32"], null)], new AgentForwarding(["198.18.0.10/32", "nonsense"]));

        var result = await pass.ApplyAsync(jump, default);

        Assert.True(_forwarding.IpForwardingEnabled);
        Assert.Equal(["198.18.0.10/32"], _forwarding.Masqueraded.Select(p => p.ToString()));
        Assert.Contains(result.Failures, f => f.Contains("nonsense", StringComparison.Ordinal));

        // Demoted to an ordinary peer: Wirety's NAT rules go away.
        await pass.ApplyAsync(Config("2"), default);
        Assert.Empty(_forwarding.Masqueraded);
    }
}
