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

    [Fact]
    public async Task a_peer_that_routes_for_others_forwards_and_masquerades_even_when_it_is_not_a_jump()
    {
        var routePeer = Config() with { Forwarding = new AgentForwarding(["198.18.0.11/32"]) };

        var result = await NewPass().ApplyAsync(routePeer, default);

        Assert.True(result.Succeeded);
        Assert.True(_forwarding.IpForwardingEnabled);
        Assert.Equal(["198.18.0.11/32"], _forwarding.Masqueraded.Select(p => p.ToString()));
    }

    [Fact]
    public async Task the_filter_of_the_config_is_enforced_on_the_interface_and_removed_once_the_config_has_none()
    {
        var pass = NewPass();
        var filtered = Config() with
        {
            Filter = new AgentFilter([new AgentFilterRule("accept", ["198.18.0.10/32"], [], ["tcp/22"])], null),
        };

        Assert.True((await pass.ApplyAsync(filtered, default)).Succeeded);
        Assert.Equal(If, _filter.Interface);
        var rule = Assert.Single(_filter.Applied!.Input);
        Assert.Equal("ip saddr 198.18.0.10/32 tcp dport 22 accept", Assert.Single(Wirety.Agent.Filtering.NftFilterRules.Rule(rule)));
        Assert.Null(_filter.Applied.Forward);

        Assert.True((await pass.ApplyAsync(Config("2"), default)).Succeeded);
        Assert.Null(_filter.Applied);
        var calls = _filter.Calls;
        await pass.ApplyAsync(Config("2"), default);
        Assert.Equal(calls, _filter.Calls); // removal is checked once, not on every pass
    }

    [Fact]
    public async Task a_filter_that_cannot_be_installed_fails_the_pass_so_the_config_is_not_saved_as_good()
    {
        var pass = NewPass();
        _filter.Failure = "nft -f - failed (exit 1): Operation not permitted";

        var result = await pass.ApplyAsync(Config() with { Filter = new AgentFilter([], null) }, default);

        Assert.False(result.Succeeded);
        Assert.Equal(["packet filter: nft -f - failed (exit 1): Operation not permitted"], result.Failures);
        Assert.True((await StateAsync()).IsUp); // the tunnel is still configured
        Assert.Contains("warn: wirety0: packet filter: nft -f - failed", _log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task an_unreadable_filter_rule_is_a_warning_and_left_out_when_it_would_accept()
    {
        var pass = NewPass();
        var config = Config() with { Filter = new AgentFilter([new AgentFilterRule("accept", ["nonsense"], [], [])], null) };

        var result = await pass.ApplyAsync(config, default);

        Assert.True(result.Succeeded);
        Assert.Empty(_filter.Applied!.Input);
        Assert.Contains("input filter rule 1: cannot read address 'nonsense'", _log.ToString(), StringComparison.Ordinal);
    }
}
