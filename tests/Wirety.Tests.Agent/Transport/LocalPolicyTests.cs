using System.Net;
using Wirety.Agent.Identity;
using Wirety.Agent.Reconcile;
using Wirety.Agent.Running;
using Wirety.Agent.State;
using Wirety.Agent.WireGuard;
using Wirety.Events.Addressing;
using Wirety.Events.Agent;
using Wirety.Tests.Agent.Fakes;
using static Wirety.Tests.Agent.TestData;

namespace Wirety.Tests.Agent.Transport;

/// <summary>
/// The host decides what the server's config may do to it: forwarding and NAT only on a peer enrolled as
/// a jump or with --allow-routing; default routes and routes over the server only with --allow-full-tunnel,
/// and then with the server kept outside the tunnel; a revoked session gives the host its routing back.
/// </summary>
public class LocalPolicyTests
{
    private const string If = "wirety0";
    private static readonly IPAddress Server = IPAddress.Parse("203.0.113.7");

    private static LocalPolicy Dynamic(bool allowRouting = false, bool allowFullTunnel = false) =>
        LocalPolicy.For("dynamic", allowRouting, allowFullTunnel);

    private static InterfacePass Pass(InMemoryWireGuard wg, RecordingForwarding forwarding, LocalPolicy policy, StringWriter? sink = null) =>
        new(wg, forwarding, new RecordingFilter(), If, Self, Log(sink), policy, _ => Task.FromResult<IReadOnlyList<IPAddress>>([Server]));

    /// <summary>What a server (or someone who took it over) might send: kind jump, forwarding, masquerade.</summary>
    private static AgentConfig ClaimsJump(string version = "1") =>
        Config(version) with { Kind = "jump", Forwarding = new AgentForwarding(["198.18.0.10/32"]) };

    private static AgentConfig FullTunnel(string version = "1", params string[] jumpAllowed) =>
        Config(version, Jump(jumpAllowed.Length == 0 ? ["0.0.0.0/0", "::/0"] : jumpAllowed), Laptop());

    [Fact]
    public async Task a_peer_enrolled_as_dynamic_does_not_forward_or_nat_because_a_config_says_jump()
    {
        var wg = new InMemoryWireGuard();
        var forwarding = new RecordingForwarding();
        var sink = new StringWriter();
        var pass = Pass(wg, forwarding, Dynamic(), sink);

        var first = await pass.ApplyAsync(ClaimsJump(), default);
        var second = await pass.ApplyAsync(ClaimsJump(), default);

        Assert.True(first.Succeeded, string.Join("\n", first.Failures));
        Assert.True(second.Succeeded);
        Assert.False(forwarding.IpForwardingEnabled);
        Assert.Empty(forwarding.Masqueraded);
        // The rest of the config is applied, and the warning is logged once, not on every pass.
        Assert.Equal(3, (await wg.ReadAsync(If, default))!.Device.Peers.Count);
        Assert.Single(sink.ToString().Split('\n'), l => l.Contains("--allow-routing", StringComparison.Ordinal));
    }

    [Fact]
    public async Task allow_routing_or_an_enrollment_as_jump_lets_the_config_forward()
    {
        foreach (var policy in new[] { Dynamic(allowRouting: true), LocalPolicy.For("jump", false, false) })
        {
            var forwarding = new RecordingForwarding();

            Assert.True((await Pass(new InMemoryWireGuard(), forwarding, policy).ApplyAsync(ClaimsJump(), default)).Succeeded);

            Assert.True(forwarding.IpForwardingEnabled);
            Assert.Equal([IpPrefix.Parse("198.18.0.10/32")], forwarding.Masqueraded);
        }
    }

    [Fact]
    public void default_routes_and_routes_over_the_server_are_left_out_without_allow_full_tunnel()
    {
        var config = Config("1", Jump("0.0.0.0/0", "::/0", "198.18.0.0/24"), Phone() with { AllowedIps = ["198.18.0.11/32", "203.0.113.0/24"] });

        var desired = DesiredState.From(config, Self.PublicKey, Dynamic() with { ServerAddresses = [Server] });

        Assert.False(desired.FullTunnelIPv4);
        Assert.False(desired.FullTunnelIPv6);
        Assert.Equal(["198.18.0.0/24"], desired.Peers.Single(p => p.PublicKey == JumpKey).AllowedIps.Select(p => p.ToString()));
        Assert.Equal(["198.18.0.11/32"], desired.Peers.Single(p => p.PublicKey == PhoneKey).AllowedIps.Select(p => p.ToString()));
        Assert.DoesNotContain(desired.Routes, r => r.Contains(Server));
        Assert.Empty(desired.ServerBypass);
        Assert.Contains(desired.Warnings, w => w.Contains("leaving out 0.0.0.0/0", StringComparison.Ordinal) && w.Contains("--allow-full-tunnel", StringComparison.Ordinal));
        Assert.Contains(desired.Warnings, w => w.Contains("leaving out 203.0.113.0/24: it covers the server's address 203.0.113.7", StringComparison.Ordinal));
    }

    [Fact]
    public void with_allow_full_tunnel_the_server_gets_a_route_outside_the_tunnel()
    {
        var policy = Dynamic(allowFullTunnel: true) with { ServerAddresses = [Server, IPAddress.Parse("2001:db8::7")] };

        var full = DesiredState.From(FullTunnel(), Self.PublicKey, policy);
        var v4Only = DesiredState.From(FullTunnel("1", "0.0.0.0/0"), Self.PublicKey, policy);
        var covering = DesiredState.From(Config("1", Jump("198.18.0.0/24", "203.0.113.0/24")), Self.PublicKey, policy);
        var split = DesiredState.From(Config(), Self.PublicKey, policy);

        Assert.True(full.FullTunnelIPv4 && full.FullTunnelIPv6);
        Assert.Equal(["203.0.113.7/32", "2001:db8::7/128"], full.ServerBypass.Select(p => p.ToString()));
        Assert.Equal(["203.0.113.7/32"], v4Only.ServerBypass.Select(p => p.ToString()));
        Assert.Equal(["203.0.113.7/32"], covering.ServerBypass.Select(p => p.ToString()));
        Assert.Empty(split.ServerBypass);
    }

    [Fact]
    public void the_server_route_goes_in_before_the_full_tunnel_and_out_after_it()
    {
        var policy = Dynamic(allowFullTunnel: true) with { ServerAddresses = [Server] };
        var on = Reconciler.Plan(DesiredState.From(FullTunnel(), Self.PublicKey, policy), null).Steps.ToList();
        var serverIn = on.FindIndex(s => s is AddServerRoute);
        var tunnelOn = on.FindIndex(s => s is SetFullTunnel { Enabled: true });

        Assert.InRange(serverIn, 0, tunnelOn - 1);

        var wasOn = new InterfaceState(new WgDevice(Self.PublicKey, 51820, 51830, []), [], 1420, true, [], true, true)
        {
            ServerRoutes = [IpPrefix.Parse("203.0.113.7/32")],
        };
        var off = Reconciler.Plan(DesiredState.From(Config(), Self.PublicKey, policy), wasOn).Steps.ToList();
        Assert.True(off.FindIndex(s => s is RemoveServerRoute) > off.FindLastIndex(s => s is SetFullTunnel { Enabled: false }));
    }

    [Fact]
    public async Task a_full_tunnel_pass_keeps_the_server_outside_and_converges()
    {
        var wg = new InMemoryWireGuard();
        var pass = Pass(wg, new RecordingForwarding(), Dynamic(allowFullTunnel: true));

        Assert.True((await pass.ApplyAsync(FullTunnel(), default)).Succeeded);
        Assert.Equal(0, (await pass.ApplyAsync(FullTunnel(), default)).Changes);
        Assert.Equal([IpPrefix.Parse("203.0.113.7/32")], wg.ServerRoutes);
        Assert.True((await wg.ReadAsync(If, default))!.FullTunnelIPv4);

        // The admin turns full encapsulation off: the server route goes with it.
        Assert.True((await pass.ApplyAsync(Config("2"), default)).Succeeded);
        Assert.Empty(wg.ServerRoutes);
        Assert.False((await wg.ReadAsync(If, default))!.FullTunnelIPv4);
    }

    [Fact]
    public async Task releasing_after_a_revoked_session_gives_the_host_its_routing_back_and_keeps_the_interface()
    {
        var wg = new InMemoryWireGuard();
        var forwarding = new RecordingForwarding();
        var pass = Pass(wg, forwarding, LocalPolicy.For("dynamic", allowRouting: true, allowFullTunnel: true));
        var config = FullTunnel() with { Forwarding = new AgentForwarding(["198.18.0.10/32"]) };
        Assert.True((await pass.ApplyAsync(config, default)).Succeeded);
        Assert.NotEmpty(forwarding.Masqueraded);

        var failures = await pass.ReleaseHostAsync(default);

        Assert.Empty(failures);
        var after = await wg.ReadAsync(If, default);
        Assert.NotNull(after);
        Assert.False(after.FullTunnelIPv4);
        Assert.False(after.FullTunnelIPv6);
        Assert.Empty(after.Routes);
        Assert.Empty(wg.ServerRoutes);
        Assert.Empty(forwarding.Masqueraded);
        Assert.Equal(2, after.Device.Peers.Count); // the interface and its peers stay, for `wg show`
    }

    [Fact]
    public async Task releasing_a_host_without_an_interface_is_harmless()
    {
        var pass = Pass(new InMemoryWireGuard(), new RecordingForwarding(), Dynamic());

        Assert.Empty(await pass.ReleaseHostAsync(default));
    }

    [Fact]
    public void the_kind_given_at_enrollment_is_kept_in_the_identity()
    {
        var dir = Directory.CreateTempSubdirectory("wirety-agent-test-");
        try
        {
            var store = new StateStore(dir.FullName);
            store.SaveIdentity(new AgentIdentity(new Uri("https://wirety.example.com/"), Guid.NewGuid(), Guid.NewGuid(), Self,
                new Secret("wst_session"), null, DateTimeOffset.UnixEpoch, "dynamic"));

            Assert.Equal("dynamic", store.LoadIdentity().Kind);
            Assert.False(LocalPolicy.For(store.LoadIdentity().Kind, false, false).MayForward);
            Assert.True(LocalPolicy.For("jump", false, false).MayForward);
            Assert.False(LocalPolicy.For(null, false, false).MayForward);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void run_takes_allow_routing_and_allow_full_tunnel()
    {
        var run = Assert.IsType<Wirety.Agent.Cli.RunCommand>(Wirety.Agent.Cli.CommandLine.Parse(["run", "--allow-routing", "--allow-full-tunnel"], _ => null)).Options;
        var plain = Assert.IsType<Wirety.Agent.Cli.RunCommand>(Wirety.Agent.Cli.CommandLine.Parse(["run"], _ => null)).Options;

        Assert.True(run.AllowRouting);
        Assert.True(run.AllowFullTunnel);
        Assert.False(plain.AllowRouting);
        Assert.False(plain.AllowFullTunnel);
    }
}
