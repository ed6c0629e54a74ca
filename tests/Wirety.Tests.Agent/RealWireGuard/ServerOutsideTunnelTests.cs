using System.Net;
using Wirety.Agent.Filtering;
using Wirety.Agent.Forwarding;
using Wirety.Agent.Identity;
using Wirety.Agent.Logging;
using Wirety.Agent.Reconcile;
using Wirety.Agent.Running;
using Wirety.Agent.WireGuard;
using Wirety.Events.Agent;
using Xunit.Abstractions;

namespace Wirety.Tests.Agent.RealWireGuard;

/// <summary>
/// The local full-tunnel opt-in and the server's route outside the tunnel, with the real controller in a
/// namespace whose underlay (a veth to a second namespace, 192.0.2.0/24) has a default gateway. The server,
/// 203.0.113.7, lies behind that gateway; nothing is sent to it, the kernel's route lookup is the evidence.
/// </summary>
public sealed class ServerOutsideTunnelTests(ITestOutputHelper output)
{
    private static readonly IPAddress Server = IPAddress.Parse("203.0.113.7");
    private static readonly string JumpKey = KeyPair.Generate().PublicKey;

    private static AgentConfig Config(string version, params string[] jumpAllowed) =>
        new(version, "dynamic", new AgentInterface("198.18.0.2/32", null, null, []),
            [new AgentPeer(JumpKey, "192.0.2.1:51820", jumpAllowed, 25)], null);

    [Fact]
    public async Task a_full_tunnel_needs_the_local_opt_in_keeps_the_server_outside_and_is_released_on_revocation()
    {
        Netns.RequirePrerequisites();
        await using var a = await Netns.CreateAsync(output);
        await using var b = await Netns.CreateAsync(output);
        var (va, vb) = (Netns.UniqueName("va"), Netns.UniqueName("vb"));
        await Netns.Host(output, "ip", "link", "add", va, "netns", a.Name, "type", "veth", "peer", "name", vb, "netns", b.Name);
        await a.RunAsync("ip", "address", "add", "192.0.2.2/24", "dev", va);
        await b.RunAsync("ip", "address", "add", "192.0.2.1/24", "dev", vb);
        await a.RunAsync("ip", "link", "set", va, "up");
        await b.RunAsync("ip", "link", "set", vb, "up");
        await a.RunAsync("ip", "route", "add", "default", "via", "192.0.2.1", "dev", va);

        var iface = a.NewInterfaceName();
        var log = new AgentLog(new OutputWriter(output), TimeProvider.System, LogLevel.Debug);
        var keys = KeyPair.Generate();
        var wg = new WgCommandLine(a.Runner, log, preferUserspace: true);
        InterfacePass Pass(bool allowFullTunnel) => new(wg, new HostForwarding(a.Runner, log), new HostFilter(a.Runner, log), iface, keys, log,
            LocalPolicy.For("dynamic", allowRouting: false, allowFullTunnel), _ => Task.FromResult<IReadOnlyList<IPAddress>>([Server]));
        var full = Config("1", "0.0.0.0/0");

        // Without --allow-full-tunnel the default route is left out: the host's traffic keeps its way.
        var refused = await Pass(allowFullTunnel: false).ApplyAsync(full, default);
        Assert.True(refused.Succeeded, string.Join("\n", refused.Failures));
        Assert.DoesNotContain("51830", await a.RunAsync("ip", "-4", "rule", "show"), StringComparison.Ordinal);
        Assert.Contains($"dev {va}", await a.RunAsync("ip", "-4", "route", "get", "198.51.100.1"), StringComparison.Ordinal);
        Assert.Equal("(none)", (await a.RunAsync("wg", "show", iface, "allowed-ips")).Trim().Split('\t')[1]);

        // With it: everything goes into the tunnel, except the server, which keeps the underlay's gateway.
        var pass = Pass(allowFullTunnel: true);
        var applied = await pass.ApplyAsync(full, default);
        Assert.True(applied.Succeeded, string.Join("\n", applied.Failures));
        Assert.Contains($"dev {iface}", await a.RunAsync("ip", "-4", "route", "get", "198.51.100.1"), StringComparison.Ordinal);
        Assert.Contains($"203.0.113.7 via 192.0.2.1 dev {va}", await a.RunAsync("ip", "-4", "route", "get", "203.0.113.7"), StringComparison.Ordinal);
        Assert.Contains($"203.0.113.7 via 192.0.2.1 dev {va}", await a.RunAsync("ip", "-4", "route", "show", "proto", WgCommandLine.ServerRouteProtocol), StringComparison.Ordinal);
        Assert.Equal(0, (await pass.ApplyAsync(full, default)).Changes);

        // Full encapsulation off: the server route goes too; on again for the revocation below.
        Assert.True((await pass.ApplyAsync(Config("2", "198.18.0.0/24"), default)).Succeeded);
        Assert.Equal("", (await a.RunAsync("ip", "-4", "route", "show", "proto", WgCommandLine.ServerRouteProtocol)).Trim());
        Assert.True((await pass.ApplyAsync(Config("3", "0.0.0.0/0"), default)).Succeeded);

        // The session is revoked: the host gets its own routing back; the interface stays for inspection.
        Assert.Empty(await pass.ReleaseHostAsync(default));
        Assert.DoesNotContain("51830", await a.RunAsync("ip", "-4", "rule", "show"), StringComparison.Ordinal);
        Assert.Contains($"dev {va}", await a.RunAsync("ip", "-4", "route", "get", "198.51.100.1"), StringComparison.Ordinal);
        Assert.Equal("", (await a.RunAsync("ip", "-4", "route", "show", "proto", WgCommandLine.ServerRouteProtocol)).Trim());
        Assert.Equal("off", (await a.RunAsync("wg", "show", iface, "fwmark")).Trim());
    }

    /// <summary>Sends agent log lines to the test output.</summary>
    private sealed class OutputWriter(ITestOutputHelper output) : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;
        public override void WriteLine(string? value) => output.WriteLine(value ?? "");
    }
}
