using Wirety.Agent.Filtering;
using Wirety.Agent.Forwarding;
using Wirety.Agent.Identity;
using Wirety.Agent.Logging;
using Wirety.Agent.Reconcile;
using Wirety.Agent.Running;
using Wirety.Agent.WireGuard;
using Wirety.Events.Addressing;
using Wirety.Events.Agent;
using Xunit.Abstractions;
using static Wirety.Tests.Agent.TestData;

namespace Wirety.Tests.Agent.RealWireGuard;

/// <summary>
/// The real controller (<see cref="WgCommandLine"/> over wg and ip) against wireguard-go, each test
/// in its own network namespace. Addresses: 198.18.0.0/15 inside the tunnel, 192.0.2.0/24 for the
/// veth underlay; no packet leaves the machine.
/// </summary>
public sealed class WireGuardGoTests(ITestOutputHelper output)
{
    private static readonly KeyPair JumpPeer = KeyPair.Generate();
    private static readonly KeyPair LaptopPeer = KeyPair.Generate();

    private AgentLog NewLog() => new(new OutputWriter(output), TimeProvider.System, LogLevel.Debug);

    /// <summary>A fresh interface name and key pair in <paramref name="ns"/>, with the real controller over wireguard-go.</summary>
    private (string Iface, KeyPair Self, AgentLog Log, WgCommandLine Wg, InterfacePass Pass) OneInterface(Netns ns)
    {
        var iface = ns.NewInterfaceName();
        var self = KeyPair.Generate();
        var log = NewLog();
        var wg = new WgCommandLine(ns.Runner, log, preferUserspace: true);
        return (iface, self, log, wg, new InterfacePass(wg, new HostForwarding(ns.Runner, log), new HostFilter(ns.Runner, log), iface, self, log));
    }

    private static AgentConfig TwoPeers(string version = "1") =>
        new(version, "dynamic", new AgentInterface("198.18.0.2/32", 51871, 1380, []),
        [
            new AgentPeer(JumpPeer.PublicKey, "192.0.2.1:51820", ["198.18.0.0/24"], 25),
            new AgentPeer(LaptopPeer.PublicKey, "192.0.2.3:51820", ["198.18.0.3/32", "198.18.5.0/24"], 25),
        ], null);

    [Fact]
    public async Task the_controller_builds_reads_back_and_repairs_a_wireguard_go_interface()
    {
        Netns.RequirePrerequisites();
        await using var ns = await Netns.CreateAsync(output);
        var (iface, self, log, wg, pass) = OneInterface(ns);

        // Apply a config with two peers to a namespace that has no interface yet.
        var applied = await pass.ApplyAsync(TwoPeers(), default);
        Assert.True(applied.Succeeded, string.Join("\n", applied.Failures));
        Assert.Single(Netns.WireGuardGoProcesses(iface));

        // Read it back with the tools themselves, not through the controller.
        var dump = await ns.RunAsync("wg", "show", iface, "dump");
        var lines = dump.Trim().Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Equal([self.PublicKey, "51871", "off"], lines[0].Split('\t')[1..]);
        Assert.Contains($"{JumpPeer.PublicKey}\t(none)\t192.0.2.1:51820\t198.18.0.0/24\t0\t0\t0\t25", lines);
        Assert.Contains(lines, l => l.StartsWith($"{LaptopPeer.PublicKey}\t(none)\t192.0.2.3:51820\t", StringComparison.Ordinal)
                                    && l.Split('\t')[3].Split(',').Order().SequenceEqual(["198.18.0.3/32", "198.18.5.0/24"]));
        var link = await ns.RunAsync("ip", "-o", "link", "show", "dev", iface);
        Assert.Contains("mtu 1380", link, StringComparison.Ordinal);
        Assert.Contains(",UP", link, StringComparison.Ordinal);
        Assert.Contains("inet 198.18.0.2/32", await ns.RunAsync("ip", "-o", "-4", "address", "show", "dev", iface), StringComparison.Ordinal);
        var routes = await ns.RunAsync("ip", "-4", "route", "show", "dev", iface);
        Assert.Equal(["198.18.0.0/24 proto static scope link", "198.18.5.0/24 proto static scope link"],
            routes.Trim().Split('\n').Select(l => l.Trim()).Order());

        // Converged: the next plan is empty.
        var desired = DesiredState.From(TwoPeers(), self.PublicKey);
        var converged = await wg.ReadAsync(iface, default);
        Assert.True(Reconciler.Plan(desired, converged, desired).IsEmpty);

        // Drift by hand, the way an admin would.
        await ns.RunAsync("wg", "set", iface, "peer", LaptopPeer.PublicKey, "remove");
        await ns.RunAsync("wg", "set", iface, "peer", JumpPeer.PublicKey, "allowed-ips", "198.18.200.0/24", "persistent-keepalive", "off");
        await ns.RunAsync("wg", "set", iface, "listen-port", "51999");
        await ns.RunAsync("ip", "route", "del", "198.18.5.0/24", "dev", iface);
        await ns.RunAsync("ip", "route", "add", "198.18.77.0/24", "dev", iface, "proto", "static");
        await ns.RunAsync("ip", "link", "set", "dev", iface, "mtu", "1300");
        var drifted = Reconciler.Plan(desired, await wg.ReadAsync(iface, default), desired);
        output.WriteLine("plan after drift:\n  " + string.Join("\n  ", drifted.Steps.Select(s => s.Describe())));
        Assert.Equal(
            [
                "set listen port 51871", "set MTU 1380",
                $"update peer {JumpPeer.PublicKey} (allowed IPs, keepalive)",
                $"add peer {LaptopPeer.PublicKey} allowed 198.18.0.3/32,198.18.5.0/24 endpoint 192.0.2.3:51820",
                "remove route 198.18.77.0/24", "add route 198.18.5.0/24",
            ],
            drifted.Steps.Select(s => s.Describe()));

        // The next pass restores it.
        var repaired = await pass.ApplyAsync(TwoPeers(), default);
        Assert.True(repaired.Succeeded, string.Join("\n", repaired.Failures));
        Assert.Equal(6, repaired.Changes);
        Assert.Equal(Describe(converged), Describe(await wg.ReadAsync(iface, default)));
        Assert.True(Reconciler.Plan(desired, await wg.ReadAsync(iface, default), desired).IsEmpty);
        Assert.Equal(dump.Trim().Split('\n').Order(), (await ns.RunAsync("wg", "show", iface, "dump")).Trim().Split('\n').Order());

        // Delete: the interface and its wireguard-go daemon are gone.
        await wg.DeleteInterfaceAsync(iface, default);
        Assert.Null(await wg.ReadAsync(iface, default));
        Assert.Null(await wg.ShowAsync(iface, default));
        for (var i = 0; i < 50 && Netns.WireGuardGoProcesses(iface).Count > 0; i++) await Task.Delay(100);
        Assert.Empty(Netns.WireGuardGoProcesses(iface));
    }

    [Fact]
    public async Task a_fully_encapsulated_peer_routes_everything_through_a_policy_table_without_touching_the_main_default_route()
    {
        Netns.RequirePrerequisites();
        await using var ns = await Netns.CreateAsync(output);
        var (iface, self, log, wg, pass) = OneInterface(ns);
        var fullTunnel = new AgentConfig("1", "dynamic", new AgentInterface("198.18.0.2/32", null, null, []),
            [new AgentPeer(JumpPeer.PublicKey, "192.0.2.1:51820", ["0.0.0.0/0"], 25)], null);
        var mainBefore = await ns.RunAsync("ip", "-4", "route", "show", "table", "main");

        var result = await pass.ApplyAsync(fullTunnel, default);

        Assert.True(result.Succeeded, string.Join("\n", result.Failures));
        Assert.Equal("0xca76", (await ns.RunAsync("wg", "show", iface, "fwmark")).Trim());
        var rules = await ns.RunAsync("ip", "-4", "rule", "show");
        Assert.Contains("not from all fwmark 0xca76 lookup 51830", rules, StringComparison.Ordinal);
        Assert.Contains("from all lookup main suppress_prefixlength 0", rules, StringComparison.Ordinal);
        Assert.Contains($"default dev {iface}", await ns.RunAsync("ip", "-4", "route", "show", "table", "51830"), StringComparison.Ordinal);
        Assert.Equal(mainBefore, await ns.RunAsync("ip", "-4", "route", "show", "table", "main"));
        Assert.DoesNotContain("default", mainBefore, StringComparison.Ordinal);
        Assert.Equal("1", (await ns.RunAsync("cat", "/proc/sys/net/ipv4/conf/all/src_valid_mark")).Trim());
        Assert.Equal(0, (await pass.ApplyAsync(fullTunnel, default)).Changes);

        // The admin turns full encapsulation off: the policy routing goes away again.
        var split = fullTunnel with { Version = "2", Peers = [new AgentPeer(JumpPeer.PublicKey, "192.0.2.1:51820", ["198.18.0.0/24"], 25)] };
        Assert.True((await pass.ApplyAsync(split, default)).Succeeded);
        Assert.Equal("off", (await ns.RunAsync("wg", "show", iface, "fwmark")).Trim());
        Assert.DoesNotContain("51830", await ns.RunAsync("ip", "-4", "rule", "show"), StringComparison.Ordinal);
        Assert.False((await ns.TryRunAsync("ip", "-4", "route", "show", "table", "51830")).Stdout.Contains("default", StringComparison.Ordinal));
    }

    [Fact]
    public async Task a_jump_peer_forwards_and_masquerades_with_tagged_idempotent_nftables_rules()
    {
        Netns.RequirePrerequisites("nft");
        await using var ns = await Netns.CreateAsync(output);
        var (iface, self, log, wg, pass) = OneInterface(ns);
        var hostForwarding = File.ReadAllText("/proc/sys/net/ipv4/ip_forward");
        AgentConfig Jump(string version, params string[] masquerade) =>
            new(version, "jump", new AgentInterface("198.18.0.1/32", 51820, null, []),
            [
                new AgentPeer(LaptopPeer.PublicKey, null, ["198.18.0.10/32"], null),
                new AgentPeer(KeyPair.Generate().PublicKey, null, ["198.18.0.11/32"], null),
            ], new AgentForwarding(masquerade));

        Assert.True((await pass.ApplyAsync(Jump("1", "198.18.0.10/32"), default)).Succeeded);

        Assert.Equal("1", (await ns.RunAsync("cat", "/proc/sys/net/ipv4/ip_forward")).Trim());
        Assert.Equal(hostForwarding, File.ReadAllText("/proc/sys/net/ipv4/ip_forward")); // only the namespace changed
        var ruleset = await ns.RunAsync("nft", "list", "table", "inet", "wirety");
        Assert.Contains($"ip saddr 198.18.0.10 oifname != \"{iface}\" masquerade comment \"wirety-masq 198.18.0.10/32 {iface}\"", ruleset, StringComparison.Ordinal);

        // Idempotent: the same sources again add nothing.
        var forwarding = new HostForwarding(ns.Runner, log);
        Assert.Empty(await forwarding.ApplyMasqueradeAsync(iface, [IpPrefix.Parse("198.18.0.10/32")], default));
        Assert.Single((await ns.RunAsync("nft", "list", "table", "inet", "wirety")).Split('\n'), l => l.Contains("masquerade", StringComparison.Ordinal));

        // Another peer becomes the fully encapsulated one: the stale rule goes, the new one comes.
        Assert.True((await pass.ApplyAsync(Jump("2", "198.18.0.11/32"), default)).Succeeded);
        ruleset = await ns.RunAsync("nft", "list", "table", "inet", "wirety");
        Assert.DoesNotContain("198.18.0.10", ruleset, StringComparison.Ordinal);
        Assert.Contains("wirety-masq 198.18.0.11/32", ruleset, StringComparison.Ordinal);

        // No longer a jump: Wirety's table is removed.
        Assert.True((await pass.ApplyAsync(TwoPeers("3"), default)).Succeeded);
        Assert.False((await ns.TryRunAsync("nft", "list", "table", "inet", "wirety")).Succeeded);
    }

    [Fact]
    public async Task two_agents_configured_by_the_controller_ping_each_other_through_the_tunnel()
    {
        Netns.RequirePrerequisites("ping");
        await using var a = await Netns.CreateAsync(output);
        await using var b = await Netns.CreateAsync(output);
        var (ifA, ifB) = (a.NewInterfaceName(), b.NewInterfaceName());
        var (vethA, vethB) = (Netns.UniqueName("va"), Netns.UniqueName("vb"));
        await Netns.Host(output, "ip", "link", "add", vethA, "netns", a.Name, "type", "veth", "peer", "name", vethB, "netns", b.Name);
        await a.RunAsync("ip", "address", "add", "192.0.2.1/24", "dev", vethA);
        await b.RunAsync("ip", "address", "add", "192.0.2.2/24", "dev", vethB);
        await a.RunAsync("ip", "link", "set", vethA, "up");
        await b.RunAsync("ip", "link", "set", vethB, "up");

        var (keysA, keysB) = (KeyPair.Generate(), KeyPair.Generate());
        var log = NewLog();
        // A asks for the kernel module first and falls back to wireguard-go where the kernel has none (as here).
        var wgA = new WgCommandLine(a.Runner, log, preferUserspace: false);
        var wgB = new WgCommandLine(b.Runner, log, preferUserspace: true);
        var configA = new AgentConfig("1", "dynamic", new AgentInterface("198.18.0.1/32", 51820, null, []),
            [new AgentPeer(keysB.PublicKey, "192.0.2.2:51820", ["198.18.0.2/32"], 25)], null);
        var configB = new AgentConfig("1", "dynamic", new AgentInterface("198.18.0.2/32", 51820, null, []),
            [new AgentPeer(keysA.PublicKey, "192.0.2.1:51820", ["198.18.0.1/32"], 25)], null);

        Assert.True((await new InterfacePass(wgA, new HostForwarding(a.Runner, log), new HostFilter(a.Runner, log), ifA, keysA, log).ApplyAsync(configA, default)).Succeeded);
        Assert.True((await new InterfacePass(wgB, new HostForwarding(b.Runner, log), new HostFilter(b.Runner, log), ifB, keysB, log).ApplyAsync(configB, default)).Succeeded);

        var ping = await a.TryRunAsync("ping", "-c", "3", "-i", "0.2", "-W", "3", "198.18.0.2");
        Assert.True(ping.Succeeded, $"ping through the tunnel failed:\n{ping.Stdout}{ping.Stderr}");
        Assert.Contains("3 received", ping.Stdout, StringComparison.Ordinal);

        // What a heartbeat from B would report: the handshake and traffic with A.
        var heartbeat = Heartbeats.Build("b", await wgB.ShowAsync(ifB, default), TimeSpan.FromSeconds(5), null);
        var stat = Assert.Single(heartbeat.PeerStats!);
        Assert.Equal(keysA.PublicKey, stat.PublicKey);
        Assert.NotNull(stat.LatestHandshake);
        Assert.True(stat.RxBytes > 0 && stat.TxBytes > 0);
        Assert.Equal(51820, heartbeat.ListenPort);
        output.WriteLine(await b.RunAsync("wg", "show", ifB));
    }

    /// <summary>Sends agent log lines to the test output.</summary>
    private sealed class OutputWriter(ITestOutputHelper output) : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;
        public override void WriteLine(string? value) => output.WriteLine(value ?? "");
    }
}
