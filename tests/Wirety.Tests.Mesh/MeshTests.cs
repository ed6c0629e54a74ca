using System.Diagnostics;
using System.Text.RegularExpressions;
using Wirety.Tests.Mesh.Harness;
using Xunit.Abstractions;

namespace Wirety.Tests.Mesh;

/// <summary>
/// End to end on real WireGuard: the real server binary (PostgreSQL behind it) in the root namespace,
/// three real agents in network namespaces joined by a bridge — a jump peer (198.18.0.2) and two dynamic
/// peers (198.18.0.3, .4) — each driving its own wireguard-go interface. The test acts as the admin over
/// the API and observes only what a user could: pings across the tunnels, <c>wg show</c>, the agents' logs.
///
/// Agents run with a long config poll (<see cref="Poll"/>), far longer than the test waits for anything,
/// so every config change seen after an agent's start must have reached it as a WebSocket
/// <c>config-changed</c> push, or through the re-fetch that follows a reconnect.
/// </summary>
public sealed partial class MeshTests(MeshFixture mesh, ITestOutputHelper output) : IClassFixture<MeshFixture>
{
    private const string Cidr = "10.99.0.0/24";
    // The agent refuses intervals below 5 s; its first heartbeat goes out right after the first config pass anyway.
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan ConvergeTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan PushTimeout = TimeSpan.FromSeconds(15);
    /// <summary>What "applied well before a 5 s poll would" means here; measured latencies are logged.</summary>
    private static readonly TimeSpan PushLatencyLimit = TimeSpan.FromSeconds(4);

    private readonly Dictionary<string, PeerDto> _peers = [];
    private readonly Dictionary<string, AgentProcess> _agents = [];
    private readonly Stopwatch _clock = new();
    private AdminApi _api = null!;
    private NetworkDto _network = null!;

    private static readonly string[] Roles = ["jump", "dyn-a", "dyn-b"];
    private MeshHost Host(string role) => mesh.Underlay[role];
    private string Address(string role) => _peers[role].Address;

    [Fact]
    public async Task real_agents_build_a_wireguard_mesh_that_follows_blocks_and_keeps_working_through_a_server_restart()
    {
        Assert.True(mesh.PrerequisiteProblem is null, mesh.PrerequisiteProblem);
        _clock.Start();
        try
        {
            Note($"setup: {string.Join("; ", mesh.SetupNotes)}");
            if (mesh.Reaped.Count > 0) Note($"removed leftovers of a crashed earlier run: {string.Join(", ", mesh.Reaped)}");
            using var api = new AdminApi(mesh.Server.AdminUrl, ServerProcess.AdminToken);
            _api = api;

            await The_namespaces_reach_the_server_and_each_other_over_the_underlay();
            await The_admin_creates_a_network_with_a_jump_and_two_dynamic_peers();
            await Agents_enroll_and_every_pair_pings_over_its_wireguard_address();
            await The_dynamic_peers_talk_directly_once_their_endpoints_are_known();
            await Blocking_dyn_b_is_pushed_to_every_agent_and_cuts_it_off();
            await Unblocking_dyn_b_restores_the_whole_mesh();
            await With_the_server_killed_the_tunnels_keep_working();
            await After_a_restart_the_agents_reconnect_and_apply_the_next_change();
            Note($"scenario finished in {_clock.Elapsed.TotalSeconds:0.0} s");
        }
        finally
        {
            foreach (var log in mesh.Logs()) output.WriteLine(log.All());
        }
    }

    // ---------------------------------------------------------------- steps

    private async Task The_namespaces_reach_the_server_and_each_other_over_the_underlay()
    {
        Step("underlay: every namespace reaches the bridge (server) address and the jump over the bridge");
        var pings = await Task.WhenAll(Roles.Select(r => Probes.PingUntilAnsweredAsync(Host(r), Underlay.BridgeAddress, "bridge", TimeSpan.FromSeconds(10)))
            .Concat(new[] { "dyn-a", "dyn-b" }.Select(r => Probes.PingUntilAnsweredAsync(Host(r), Host("jump").UnderlayAddress, "jump underlay", TimeSpan.FromSeconds(10)))));
        foreach (var ping in pings) Note(ping.ToString());
        Assert.True(pings.All(p => p.Succeeded),
            "the underlay (bridge + veths, 198.18.0.0/24) does not carry traffic, so nothing over WireGuard can work. " +
            "Is a host firewall dropping bridged packets (br_netfilter with an iptables/nftables FORWARD policy of DROP)?\n" +
            string.Join('\n', pings.Where(p => !p.Succeeded)));
    }

    private async Task The_admin_creates_a_network_with_a_jump_and_two_dynamic_peers()
    {
        Step($"admin API: network {Cidr}, jump (endpoint 198.18.0.2:51820), dyn-a (listenPort 51821), dyn-b (listenPort 51822)");
        _network = await _api.CreateNetworkAsync($"e2e-{Guid.NewGuid():N}"[..20], Cidr);
        _peers["jump"] = await _api.AddPeerAsync(_network.Id, new { name = "jump", kind = "jump", endpoint = $"{Host("jump").UnderlayAddress}:51820", listenPort = 51820 });
        _peers["dyn-a"] = await _api.AddPeerAsync(_network.Id, new { name = "dyn-a", kind = "dynamic", listenPort = 51821 });
        _peers["dyn-b"] = await _api.AddPeerAsync(_network.Id, new { name = "dyn-b", kind = "dynamic", listenPort = 51822 });
        foreach (var role in Roles)
        {
            Assert.False(string.IsNullOrEmpty(_peers[role].EnrollmentToken), $"creating {role} returned no enrollment token");
            Note($"{role}: peer {_peers[role].Id}, address {Address(role)}");
        }
    }

    private async Task Agents_enroll_and_every_pair_pings_over_its_wireguard_address()
    {
        Step("agents: enroll in each namespace, run with --userspace; every ordered pair pings over WireGuard");
        foreach (var role in Roles)
        {
            var agent = _agents[role] = mesh.NewAgent(Host(role));
            await agent.EnrollAsync(mesh.Server.AgentUrl, _peers[role].EnrollmentToken!);
            _peers[role] = await _api.GetPeerAsync(_network.Id, _peers[role].Id) with { EnrollmentToken = null };
            Assert.True(_peers[role].Enrolled && _peers[role].PublicKey is not null, $"{role} is not enrolled after `wirety-agent enroll`\n{agent.Log.Tail()}");
        }
        var started = _clock.Elapsed;
        foreach (var role in Roles) _agents[role].Start(Heartbeat, Poll);

        var pings = await PingAllPairsAsync(ConvergeTimeout);
        Note($"full mesh reachable {(_clock.Elapsed - started).TotalSeconds:0.0} s after the agents started");
        await AssertAllSucceededAsync(pings, "after enrollment, every peer should reach every other over the tunnel (directly or via the jump)");
    }

    private async Task The_dynamic_peers_talk_directly_once_their_endpoints_are_known()
    {
        Step("direct path: dyn-a and dyn-b list each other at the endpoints observed from their heartbeats, and handshake directly");
        var runStart = DateTimeOffset.UtcNow - _clock.Elapsed;
        var expectations = new[]
        {
            (From: "dyn-a", To: "dyn-b", Endpoint: $"{Host("dyn-b").UnderlayAddress}:51822"),
            (From: "dyn-b", To: "dyn-a", Endpoint: $"{Host("dyn-a").UnderlayAddress}:51821"),
        };
        foreach (var (from, to, endpoint) in expectations)
        {
            WgPeer? seen = null;
            var direct = await Probes.EventuallyAsync(async () =>
            {
                seen = (await Probes.WgPeersAsync(Host(from))).FirstOrDefault(p => p.PublicKey == _peers[to].PublicKey);
                if (seen is { LatestHandshake: null, Endpoint: not null }) await Probes.PingOnceAsync(Host(from), Address(to), to); // give it traffic to handshake on
                return seen is { LatestHandshake: not null } && seen.Endpoint == endpoint;
            }, ConvergeTimeout, TimeSpan.FromMilliseconds(250));
            Assert.True(direct,
                $"{from}'s `wg show` should list {to} ({_peers[to].PublicKey}) directly at {endpoint} with a handshake; it has: " +
                $"{seen?.ToString() ?? "no such peer"}\nall peers of {from}: {string.Join("; ", await Probes.WgPeersAsync(Host(from)))}\n{_agents[from].Log.Tail()}");
            Assert.True(seen!.LatestHandshake >= runStart.AddSeconds(-1), $"{from}'s handshake with {to} ({seen.LatestHandshake:u}) predates this run");
            Assert.Equal([$"{Address(to)}/32"], seen.AllowedIps);
            Note($"{from} wg show: {to} {seen}");
        }

        // Traffic between them uses that direct entry: its counters grow by at least the pings' size.
        var before = await DirectEntryAsync("dyn-a", "dyn-b");
        var ping = await Sh.InNamespaceAsync(Host("dyn-a").Namespace, "ping", "-n", "-c", "3", "-i", "0.2", "-W", "1", Address("dyn-b"));
        var after = await DirectEntryAsync("dyn-a", "dyn-b");
        Note($"dyn-a → dyn-b ping -c3: {ping.Stdout.Split('\n').FirstOrDefault(l => l.Contains("packets transmitted", StringComparison.Ordinal))}; " +
             $"direct entry tx {before.TxBytes} → {after.TxBytes}, rx {before.RxBytes} → {after.RxBytes} bytes");
        Assert.True(ping.ExitCode == 0, $"dyn-a → dyn-b ping -c3 failed:\n{ping.Stdout}{ping.Stderr}");
        Assert.True(after.TxBytes - before.TxBytes >= 3 * 84 && after.RxBytes - before.RxBytes >= 3 * 84,
            $"dyn-a's direct entry for dyn-b should carry the 3 pings and their replies (≥ 252 bytes each way); tx +{after.TxBytes - before.TxBytes}, rx +{after.RxBytes - before.RxBytes}");
    }

    private async Task Blocking_dyn_b_is_pushed_to_every_agent_and_cuts_it_off()
    {
        Step("block dyn-b: the config-changed push reaches all three agents, dyn-b drops out of every config, its pings stop");
        var marks = Marks();
        var blockedAt = DateTimeOffset.UtcNow;
        var blocked = await _api.BlockAsync(_network.Id, _peers["dyn-b"].Id, "e2e: contain dyn-b");
        Assert.True(blocked.Blocked, "the block response should show dyn-b blocked");
        await AssertPushedAndAppliedAsync(marks, blockedAt, "block dyn-b");

        var bKey = _peers["dyn-b"].PublicKey!;
        await AssertWgEventuallyAsync("dyn-b", peers => peers.Count == 0, "a blocked peer's own interface should have no peers");
        await AssertWgEventuallyAsync("jump", peers => peers.All(p => p.PublicKey != bKey), "the jump should drop the blocked dyn-b");
        await AssertWgEventuallyAsync("dyn-a", peers => peers.All(p => p.PublicKey != bKey), "dyn-a should drop its direct entry for the blocked dyn-b");

        var cut = await Task.WhenAll(
            Probes.PingOnceAsync(Host("dyn-b"), Address("jump"), "jump"), Probes.PingOnceAsync(Host("dyn-b"), Address("dyn-a"), "dyn-a"),
            Probes.PingOnceAsync(Host("jump"), Address("dyn-b"), "dyn-b"), Probes.PingOnceAsync(Host("dyn-a"), Address("dyn-b"), "dyn-b"));
        foreach (var p in cut) Note($"blocked: {p}");
        Assert.True(cut.All(p => !p.Succeeded), "no ping to or from the blocked dyn-b should get through:\n" + string.Join('\n', cut.Where(p => p.Succeeded)));

        var rest = await Task.WhenAll(
            Probes.PingUntilAnsweredAsync(Host("jump"), Address("dyn-a"), "dyn-a", TimeSpan.FromSeconds(10)),
            Probes.PingUntilAnsweredAsync(Host("dyn-a"), Address("jump"), "jump", TimeSpan.FromSeconds(10)));
        await AssertAllSucceededAsync(rest, "blocking dyn-b must not disturb jump ↔ dyn-a");
    }

    private async Task Unblocking_dyn_b_restores_the_whole_mesh()
    {
        Step("unblock dyn-b: pushed to every agent; every pair pings again, dyn-a ↔ dyn-b directly");
        var marks = Marks();
        var unblockedAt = DateTimeOffset.UtcNow;
        var unblocked = await _api.UnblockAsync(_network.Id, _peers["dyn-b"].Id, "e2e: released");
        Assert.False(unblocked.Blocked, "the unblock response should show dyn-b unblocked");
        await AssertPushedAndAppliedAsync(marks, unblockedAt, "unblock dyn-b");

        await AssertAllSucceededAsync(await PingAllPairsAsync(TimeSpan.FromSeconds(30)), "after unblocking dyn-b every pair should ping again");
        var direct = (await Probes.WgPeersAsync(Host("dyn-a"))).FirstOrDefault(p => p.PublicKey == _peers["dyn-b"].PublicKey);
        Assert.True(direct?.Endpoint == $"{Host("dyn-b").UnderlayAddress}:51822",
            $"dyn-a should list dyn-b directly again at its known endpoint; has {direct?.ToString() ?? "no entry"}");
    }

    private async Task With_the_server_killed_the_tunnels_keep_working()
    {
        Step("kill the server (SIGKILL): the agents notice and keep their interfaces; every pair still pings");
        var peersBefore = await WgViewAsync();
        var marks = Marks();
        var killedAt = _clock.Elapsed;
        await mesh.Server.KillAsync();
        Assert.False(mesh.Server.IsRunning, "the server process should be gone");

        foreach (var role in Roles)
        {
            var noticed = await WaitForLogAsync(role, marks[role], l => l.Contains("server unreachable", StringComparison.Ordinal), PushTimeout);
            Assert.True(noticed is not null, $"the {role} agent should notice the server is gone (heartbeat every {Heartbeat.TotalSeconds:0} s)\n{_agents[role].Log.Tail()}");
            Note($"{role} agent: {noticed!.Text}");
        }

        await AssertAllSucceededAsync(await PingAllPairsAsync(TimeSpan.FromSeconds(15)), "with the server down, the tunnels must keep working (fail-static)");
        Assert.Equal(peersBefore, await WgViewAsync());
        foreach (var role in Roles) Assert.True(_agents[role].IsRunning, $"the {role} agent must keep running while the server is down (exit {_agents[role].ExitCode})\n{_agents[role].Log.Tail()}");
        Note($"server down for {(_clock.Elapsed - killedAt).TotalSeconds:0.0} s so far; WireGuard peers unchanged on all three hosts");
    }

    private async Task After_a_restart_the_agents_reconnect_and_apply_the_next_change()
    {
        Step("restart the server (same database and ports): the agents reconnect; the next admin change (network MTU 1380) is pushed and applied");
        var marks = Marks();
        var started = await mesh.Server.StartAsync();
        Note($"server ready again in {started.TotalSeconds:0.0} s");

        foreach (var role in Roles)
        {
            // Reconnects back off exponentially with jitter (up to 16-30 s steps), hence the generous wait.
            var connected = await WaitForLogAsync(role, marks[role], l => l.Contains("websocket: connected", StringComparison.Ordinal), TimeSpan.FromSeconds(75));
            Assert.True(connected is not null, $"the {role} agent should reconnect its WebSocket after the restart\n{_agents[role].Log.Tail()}");
            Note($"{role} agent: {connected!.Text}");
        }

        var changeMarks = Marks();
        var changedAt = DateTimeOffset.UtcNow;
        var updated = await _api.UpdateNetworkAsync(_network.Id, new { mtu = 1380 });
        Assert.Equal(1380, updated.Mtu);
        await AssertPushedAndAppliedAsync(changeMarks, changedAt, "network MTU 1380 after the restart");
        foreach (var role in Roles)
        {
            int? mtu = null;
            Assert.True(await Probes.EventuallyAsync(async () => (mtu = await Probes.MtuAsync(Host(role))) == 1380, TimeSpan.FromSeconds(10)),
                $"{role}'s {Host(role).WgInterface} should have MTU 1380, has {mtu}");
        }
        Note("all three interfaces now have MTU 1380");
        await AssertAllSucceededAsync(await PingAllPairsAsync(TimeSpan.FromSeconds(30)), "after the restart and the MTU change every pair should still ping");
    }

    // ---------------------------------------------------------------- helpers

    private async Task<PingResult[]> PingAllPairsAsync(TimeSpan timeout)
    {
        var pairs = Roles.SelectMany(from => Roles.Where(to => to != from).Select(to => (from, to)));
        var pings = await Task.WhenAll(pairs.Select(p => Probes.PingUntilAnsweredAsync(Host(p.from), Address(p.to), p.to, timeout)));
        foreach (var ping in pings) Note(ping.ToString());
        return pings;
    }

    private async Task AssertAllSucceededAsync(IEnumerable<PingResult> pings, string what)
    {
        var failed = pings.Where(p => !p.Succeeded).ToList();
        if (failed.Count == 0) return;
        var views = await Task.WhenAll(Roles.Select(async r => $"{r} wg peers: {string.Join("; ", await Probes.WgPeersAsync(Host(r)))}"));
        Assert.Fail($"{what}; these pings never got a reply:\n{string.Join('\n', failed)}\n{string.Join('\n', views)}\n" +
                    string.Join('\n', failed.Select(p => p.From).Distinct().Select(r => _agents.TryGetValue(r, out var a) ? a.Log.Tail(25) : "")));
    }

    private Dictionary<string, int> Marks() => Roles.ToDictionary(r => r, r => _agents[r].Log.Mark());

    private async Task<LogLine?> WaitForLogAsync(string role, int mark, Func<string, bool> match, TimeSpan timeout)
    {
        LogLine? found = null;
        await Probes.EventuallyAsync(() => Task.FromResult((found = _agents[role].Log.Since(mark).FirstOrDefault(l => match(l.Text))) is not null), timeout);
        return found;
    }

    /// <summary>
    /// Every agent logs that the server pushed config-changed for its new config version, fetched it
    /// and planned the interface changes — within <see cref="PushLatencyLimit"/> of the admin call.
    /// With a poll interval of <see cref="Poll"/>, nothing but the push can have triggered that fetch.
    /// </summary>
    private async Task AssertPushedAndAppliedAsync(Dictionary<string, int> marks, DateTimeOffset changedAt, string change)
    {
        foreach (var role in Roles)
        {
            var version = (await _api.GetConfigAsync(_network.Id, _peers[role].Id)).Version;
            var agent = _agents[role];
            var pushed = await WaitForLogAsync(role, marks[role], l => l.EndsWith($"fetching config: server pushed config-changed {version}", StringComparison.Ordinal), PushTimeout);
            var fetched = await WaitForLogAsync(role, marks[role], l => ConfigChanged().Match(l) is { Success: true } m && m.Groups["to"].Value == $"{version}", PushTimeout);
            var planned = await WaitForLogAsync(role, marks[role], l => l.Contains($"change(s) for config version {version}:", StringComparison.Ordinal), PushTimeout);
            Assert.True(pushed is not null && fetched is not null && planned is not null,
                $"after '{change}' the {role} agent should log the push of config version {version}, the fetch and the interface changes " +
                $"(push: {pushed?.Text ?? "missing"}; fetch: {fetched?.Text ?? "missing"}; plan: {planned?.Text ?? "missing"})\n{agent.Log.Tail()}");
            var latency = (planned!.Stamp ?? planned.ReceivedAt) - changedAt;
            Note($"{role}: {change} → push received {((pushed!.Stamp ?? pushed.ReceivedAt) - changedAt).TotalMilliseconds:0} ms, " +
                 $"interface changes planned {latency.TotalMilliseconds:0} ms after the API call: {planned.Text}");
            Assert.True(latency < PushLatencyLimit,
                $"the {role} agent applied '{change}' {latency.TotalSeconds:0.0} s after the API call; a push should take well under {PushLatencyLimit.TotalSeconds:0} s");
        }
    }

    private async Task AssertWgEventuallyAsync(string role, Func<IReadOnlyList<WgPeer>, bool> condition, string what)
    {
        IReadOnlyList<WgPeer> peers = [];
        Assert.True(await Probes.EventuallyAsync(async () => condition(peers = await Probes.WgPeersAsync(Host(role))), TimeSpan.FromSeconds(10)),
            $"{what}; {role}'s wg peers: {string.Join("; ", peers)}\n{_agents[role].Log.Tail()}");
        Note($"{role} wg peers: {(peers.Count == 0 ? "(none)" : string.Join("; ", peers))}");
    }

    private async Task<WgPeer> DirectEntryAsync(string from, string to) =>
        (await Probes.WgPeersAsync(Host(from))).Single(p => p.PublicKey == _peers[to].PublicKey);

    /// <summary>Who lists whom with which AllowedIPs, per host (counters and handshakes left out).</summary>
    private async Task<string> WgViewAsync() =>
        string.Join('\n', await Task.WhenAll(Roles.Select(async r =>
            $"{r}: " + string.Join(", ", (await Probes.WgPeersAsync(Host(r))).Select(p => $"{p.PublicKey[..8]}={string.Join('+', p.AllowedIps.Order())}").Order()))));

    private void Step(string title) => output.WriteLine($"\n[{_clock.Elapsed.TotalSeconds,6:0.0}s] ==== {title}");

    private void Note(string text) => output.WriteLine($"[{_clock.Elapsed.TotalSeconds,6:0.0}s] {text}");

    [GeneratedRegex(@"config changed: version (?<from>\d+) \S+ (?<to>\d+)$")]
    private static partial Regex ConfigChanged();
}
