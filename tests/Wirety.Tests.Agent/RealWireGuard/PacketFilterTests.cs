using System.Net;
using System.Net.Sockets;
using System.Text;
using Wirety.Agent.Filtering;
using Wirety.Agent.Forwarding;
using Wirety.Agent.Identity;
using Wirety.Agent.Logging;
using Wirety.Agent.Running;
using Wirety.Agent.WireGuard;
using Wirety.Events.Agent;
using Xunit.Abstractions;

namespace Wirety.Tests.Agent.RealWireGuard;

/// <summary>
/// The packet filter, proven with packets: agents over wireguard-go in network namespaces, each
/// reconciled by a real <see cref="InterfacePass"/>, with the nftables backend and (with nft hidden
/// from the agent) the iptables one. Sockets are opened inside the namespaces by the test itself
/// (<see cref="Netns.OpenSocket"/>). A "fails" is only asserted after the same path worked.
/// </summary>
public sealed class PacketFilterTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Works = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Blocked = TimeSpan.FromSeconds(1);

    private static readonly string[] Tools = ["nft", "iptables", "iptables-restore", "ip6tables", "ip6tables-restore", "ping"];

    /// <summary>One agent: its namespace, interface, key pair and reconcile pass.</summary>
    private sealed record Agent(Netns Ns, string Iface, KeyPair Keys, string Address, InterfacePass Pass)
    {
        public string Host => Address.Split('/')[0];
    }

    private Agent NewAgent(Netns ns, string address, string backend)
    {
        var log = new AgentLog(new OutputWriter(output), TimeProvider.System, LogLevel.Debug);
        ICommandRunner filterRunner = backend == "iptables" ? new WithoutNft(ns.Runner) : ns.Runner;
        var iface = ns.NewInterfaceName();
        var keys = KeyPair.Generate();
        var wg = new WgCommandLine(ns.Runner, log, preferUserspace: true);
        return new Agent(ns, iface, keys, address, new InterfacePass(wg, new HostForwarding(ns.Runner, log), new HostFilter(filterRunner, log), iface, keys, log));
    }

    /// <summary>A veth pair between two namespaces, with an underlay address on each end.</summary>
    private async Task LinkAsync(Netns a, string addressA, Netns b, string addressB)
    {
        var (vethA, vethB) = (Netns.UniqueName("va"), Netns.UniqueName("vb"));
        await Netns.Host(output, "ip", "link", "add", vethA, "netns", a.Name, "type", "veth", "peer", "name", vethB, "netns", b.Name);
        await a.RunAsync("ip", "address", "add", addressA, "dev", vethA);
        await b.RunAsync("ip", "address", "add", addressB, "dev", vethB);
        await a.RunAsync("ip", "link", "set", vethA, "up");
        await b.RunAsync("ip", "link", "set", vethB, "up");
    }

    private static AgentConfig Config(Agent self, string version, AgentPeer[] peers, AgentFilter? filter, AgentForwarding? forwarding = null) =>
        new(version, forwarding is null ? "dynamic" : "jump", new AgentInterface(self.Address, 51820, null, []), peers, forwarding, filter);

    private static AgentPeer PeerOf(Agent other, string endpoint, params string[] allowed) => new(other.Keys.PublicKey, endpoint, allowed, 25);

    private static AgentFilterRule Accept(string from, string? to, params string[] ports) => new("accept", [from], to is null ? [] : [to], ports);

    private static async Task ApplyAsync(Agent agent, AgentConfig config)
    {
        var result = await agent.Pass.ApplyAsync(config, default);
        Assert.True(result.Succeeded, $"{agent.Ns.Name}: " + string.Join("\n", result.Failures));
    }

    [Theory]
    [InlineData("nft")]
    [InlineData("iptables")]
    public async Task an_input_rule_lets_exactly_its_traffic_in_and_removing_it_cuts_the_open_connection(string backend)
    {
        Netns.RequirePrerequisites(Tools);
        await using var nsA = await Netns.CreateAsync(output);
        await using var nsB = await Netns.CreateAsync(output);
        await LinkAsync(nsA, "192.0.2.1/24", nsB, "192.0.2.2/24");
        var a = NewAgent(nsA, "198.18.0.1/32", backend);
        var b = NewAgent(nsB, "198.18.0.2/32", backend);
        AgentConfig ConfigA(string version, AgentFilter? filter) => Config(a, version, [PeerOf(b, "192.0.2.2:51820", "198.18.0.2/32")], filter);
        AgentConfig ConfigB(string version, AgentFilter? filter) => Config(b, version, [PeerOf(a, "192.0.2.1:51820", "198.18.0.1/32")], filter);

        // Unfiltered, the tunnel carries everything (and the handshake is done).
        await ApplyAsync(a, ConfigA("1", null));
        await ApplyAsync(b, ConfigB("1", null));
        Assert.True(await PingsAsync(a, b.Host, Works), "ping through the unfiltered tunnel failed");

        // B lets A in on tcp/22 only; A lets nothing in (but replies).
        await ApplyAsync(a, ConfigA("2", new AgentFilter([], null)));
        await ApplyAsync(b, ConfigB("2", new AgentFilter([Accept("198.18.0.1/32", null, "tcp/22")], null)));
        Assert.Equal(0, (await b.Pass.ApplyAsync(ConfigB("2", new AgentFilter([Accept("198.18.0.1/32", null, "tcp/22")], null)), default)).Changes);

        using var listenerB = Listen(b, 22);
        using var listenerA = Listen(a, 22);
        var pingBlocked = PingsAsync(a, b.Host, Blocked);
        var reverseBlocked = ConnectsAsync(b, a.Host, 22, Blocked);
        using var client = await ConnectAsync(a, b.Host, 22);
        using var server = await listenerB.AcceptAsync();
        Assert.Equal("hello", await ExchangeAsync(client, server, "hello", Works));
        Assert.Equal("reply", await ExchangeAsync(server, client, "reply", Works));
        Assert.False(await pingBlocked, "A's ping reached B although B's filter allows only tcp/22");
        Assert.False(await reverseBlocked, "B opened a TCP connection to A although A's filter lets nothing in");

        // The rule goes: the open connection no longer gets through in A's direction.
        await ApplyAsync(b, ConfigB("3", new AgentFilter([], null)));
        Assert.Null(await ExchangeAsync(client, server, "again", Blocked));

        // The filter goes: nothing of the agent's is left, and TCP's retransmission now arrives.
        await ApplyAsync(a, ConfigA("4", null));
        await ApplyAsync(b, ConfigB("4", null));
        var rest = new byte[16];
        using (var patience = new CancellationTokenSource(Works))
            Assert.Equal("again", Encoding.ASCII.GetString(rest, 0, await server.ReceiveAsync(rest, patience.Token)));
        await AssertNothingLeftAsync(nsA);
        await AssertNothingLeftAsync(nsB);
    }

    [Theory]
    [InlineData("nft")]
    [InlineData("iptables")]
    public async Task a_jumps_forward_rule_lets_one_peer_reach_another_on_one_port_and_nothing_else(string backend)
    {
        Netns.RequirePrerequisites(Tools);
        await using var nsJ = await Netns.CreateAsync(output);
        await using var nsA = await Netns.CreateAsync(output);
        await using var nsC = await Netns.CreateAsync(output);
        await LinkAsync(nsJ, "192.0.2.1/30", nsA, "192.0.2.2/30");
        await LinkAsync(nsJ, "192.0.2.5/30", nsC, "192.0.2.6/30");
        var j = NewAgent(nsJ, "198.18.0.1/32", backend);
        var a = NewAgent(nsA, "198.18.0.10/32", backend);
        var c = NewAgent(nsC, "198.18.0.11/32", backend);
        AgentConfig ConfigJ(string version, AgentFilter? filter) =>
            Config(j, version, [PeerOf(a, "192.0.2.2:51820", "198.18.0.10/32"), PeerOf(c, "192.0.2.6:51820", "198.18.0.11/32")], filter, new AgentForwarding(["198.18.0.10/32"]));
        await ApplyAsync(j, ConfigJ("1", null));
        await ApplyAsync(a, Config(a, "1", [PeerOf(j, "192.0.2.1:51820", "198.18.0.0/24")], null));
        await ApplyAsync(c, Config(c, "1", [PeerOf(j, "192.0.2.5:51820", "198.18.0.0/24")], null));
        Assert.True(await PingsAsync(a, c.Host, Works), "ping from A to C through the jump failed");
        Assert.Equal("1", (await nsJ.RunAsync("cat", "/proc/sys/net/ipv4/ip_forward")).Trim());

        // The jump lets A reach C on tcp/22; A and C themselves filter nothing.
        await ApplyAsync(j, ConfigJ("2", new AgentFilter([], [Accept("198.18.0.10/32", "198.18.0.11/32", "tcp/22")])));
        using var ssh = Listen(c, 22);
        using var other = Listen(c, 23);
        using var back = Listen(a, 22);
        var otherPort = ConnectsAsync(a, c.Host, 23, Blocked);
        var reverse = ConnectsAsync(c, a.Host, 22, Blocked);
        var ping = PingsAsync(a, c.Host, Blocked);
        Assert.True(await ConnectsAsync(a, c.Host, 22, Works), "A could not reach C:22 although the jump allows it");
        Assert.False(await otherPort, "A reached C:23 through the jump");
        Assert.False(await reverse, "C reached A:22 through the jump");
        Assert.False(await ping, "A's ping reached C through the jump");

        // The masquerade table and the filter table live side by side; removing one keeps the other.
        Assert.Contains("masquerade", await nsJ.RunAsync("nft", "list", "table", "inet", HostForwarding.NftTable), StringComparison.Ordinal);
        await ApplyAsync(j, ConfigJ("3", null));
        await AssertNothingLeftAsync(nsJ);
        Assert.Contains("masquerade", await nsJ.RunAsync("nft", "list", "table", "inet", HostForwarding.NftTable), StringComparison.Ordinal);
    }

    /// <summary>No table or chain of the agent's filter is left in the namespace.</summary>
    private static async Task AssertNothingLeftAsync(Netns ns)
    {
        Assert.DoesNotContain(NftFilterRules.Table, await ns.RunAsync("nft", "list", "tables"), StringComparison.Ordinal);
        Assert.DoesNotContain("WIRETY", await ns.RunAsync("iptables", "-w", "-S"), StringComparison.Ordinal);
        Assert.DoesNotContain("WIRETY", await ns.RunAsync("ip6tables", "-w", "-S"), StringComparison.Ordinal);
    }

    private static Socket Listen(Agent agent, int port)
    {
        var socket = agent.Ns.OpenSocket(SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Parse(agent.Host), port));
        socket.Listen(8);
        return socket;
    }

    private static async Task<Socket> ConnectAsync(Agent from, string address, int port)
    {
        var socket = from.Ns.OpenSocket(SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(Works);
        await socket.ConnectAsync(IPAddress.Parse(address), port, timeout.Token);
        return socket;
    }

    private static async Task<bool> ConnectsAsync(Agent from, string address, int port, TimeSpan within)
    {
        using var socket = from.Ns.OpenSocket(SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(within);
        try
        {
            await socket.ConnectAsync(IPAddress.Parse(address), port, timeout.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Sends <paramref name="text"/> and returns what arrives on the other end, or null if nothing does in time.</summary>
    private static async Task<string?> ExchangeAsync(Socket sender, Socket receiver, string text, TimeSpan within)
    {
        await sender.SendAsync(Encoding.ASCII.GetBytes(text));
        var buffer = new byte[64];
        using var timeout = new CancellationTokenSource(within);
        try
        {
            var n = await receiver.ReceiveAsync(buffer, timeout.Token);
            return Encoding.ASCII.GetString(buffer, 0, n);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    private static async Task<bool> PingsAsync(Agent from, string address, TimeSpan within) =>
        (await from.Ns.TryRunAsync("ping", "-c", "1", "-W", ((int)within.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture), address)).Succeeded;

    /// <summary>A host without nft, as the agent sees it: forces the iptables backend.</summary>
    private sealed class WithoutNft(ICommandRunner inner) : ICommandRunner
    {
        public Task<CommandResult> RunAsync(string exe, IReadOnlyList<string> args, string? stdin, CancellationToken ct) => inner.RunAsync(exe, args, stdin, ct);
        public Task<string?> ReadFileAsync(string path, CancellationToken ct) => inner.ReadFileAsync(path, ct);
        public Task WriteFileAsync(string path, string content, CancellationToken ct) => inner.WriteFileAsync(path, content, ct);
        public bool IsAvailable(string exe) => exe != "nft" && inner.IsAvailable(exe);
    }

    private sealed class OutputWriter(ITestOutputHelper output) : TextWriter
    {
        public override Encoding Encoding => Encoding.UTF8;
        public override void WriteLine(string? value) => output.WriteLine(value ?? "");
    }
}
