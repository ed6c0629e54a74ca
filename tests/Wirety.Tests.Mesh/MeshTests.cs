using System.Diagnostics;
using System.Text.RegularExpressions;
using Wirety.Tests.Mesh.Harness;
using Xunit.Abstractions;

namespace Wirety.Tests.Mesh;

/// <summary>
/// End to end on real WireGuard: the real server binary (PostgreSQL behind it) in the root namespace,
/// three real agents in network namespaces joined by a bridge — a jump peer (198.18.0.2) and two dynamic
/// peers (198.18.0.3, .4) — each driving its own wireguard-go interface. The test acts as the admin over
/// the API and observes only what a user could: pings across the tunnels, <c>wg show</c>, the agents' logs
/// and state files, the audit trail and the incidents.
///
/// A fourth namespace ("stolen", 198.18.0.5) is where a thief runs a copy of dyn-a's state directory
/// (same private key, same session token): the server must see one session heartbeat from two places,
/// open a session-conflict incident and block dyn-a — both copies — until an admin resolves it.
///
/// Agents run with a long config poll (<see cref="Poll"/>), far longer than the test waits for anything,
/// so every config change seen after an agent's start must have reached it as a WebSocket
/// <c>config-changed</c> push, or through the re-fetch that follows a reconnect.
///
/// The last steps (MeshTests.Policy.cs) switch the network to default deny with one policy and then to
/// an isolated dyn-b, and judge the agents' packet filters by TCP connections and pings.
/// </summary>
public sealed partial class MeshTests(MeshFixture mesh, ITestOutputHelper output) : IClassFixture<MeshFixture>
{
    private const string Cidr = "10.99.0.0/24";
    // The agent refuses intervals below 5 s; its first heartbeat goes out right after the first config pass anyway.
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan ConvergeTimeout = TimeSpan.FromSeconds(60);
    /// <summary>
    /// How long an agent may take to log a push, the fetch and the planned changes. Generous on purpose (the
    /// measured latency, typically well under a second, is logged, not asserted); still far below
    /// <see cref="Poll"/>, so nothing but the push can have triggered the fetch.
    /// </summary>
    private static readonly TimeSpan PushTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long detection may take: the copy's first heartbeat, then dyn-a's next one (≤ one interval) closes A, B, A.</summary>
    private static readonly TimeSpan DetectionTimeout = TimeSpan.FromSeconds(30);
    private const string Stolen = "stolen";

    private readonly Dictionary<string, PeerDto> _peers = [];
    private readonly Dictionary<string, AgentProcess> _agents = [];
    private readonly Stopwatch _clock = new();
    private AdminApi _api = null!;
    private NetworkDto _network = null!;
    private IncidentDto? _incident;
    private MeshHost? _stolenHost;
    private DateTimeOffset _restartedAt;

    private static readonly string[] Roles = ["jump", "dyn-a", "dyn-b"];
    private MeshHost Host(string role) => role == Stolen && _stolenHost is not null ? _stolenHost : mesh.Underlay[role];
    private string Address(string role) => PeerOf(role).Address;
    /// <summary>The stolen copy is dyn-a as far as the server knows.</summary>
    private PeerDto PeerOf(string role) => _peers[role == Stolen ? "dyn-a" : role];

    [Fact]
    public async Task real_agents_build_a_wireguard_mesh_that_follows_blocks_survives_a_server_restart_and_enforces_policy_and_isolation_on_packets()
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
            await A_copy_of_dyn_a_s_state_directory_running_elsewhere_opens_a_session_conflict_and_cuts_off_both_copies();
            await Resolving_with_unblock_after_the_copy_is_gone_brings_dyn_a_back_and_resolving_again_is_a_no_op();
            await With_the_server_killed_the_tunnels_keep_working();
            await After_a_restart_the_agents_reconnect_and_apply_the_next_change();
            await The_resolved_incident_stays_resolved_and_dyn_a_unblocked();
            await Under_default_deny_one_policy_lets_dyn_a_reach_dyn_b_on_tcp_22_and_nothing_else();
            await Deleting_the_policy_cuts_the_live_connection_within_a_push();
            // Last: it leaves dyn-b's agent stopped and its interface hand-edited.
            await An_isolated_peer_that_routes_the_network_through_the_jump_by_hand_still_reaches_only_the_jump();
            Note($"scenario finished in {_clock.Elapsed.TotalSeconds:0.0} s");
        }
        finally
        {
            await DisposePolicyProbesAsync();
            foreach (var log in mesh.Logs()) output.WriteLine(log.All());
        }
    }

    // ---------------------------------------------------------------- steps

    private async Task The_namespaces_reach_the_server_and_each_other_over_the_underlay()
    {
        Step("underlay: every namespace (jump, dyn-a, dyn-b, stolen) reaches the bridge (server) address; the dynamic ones reach the jump over the bridge");
        var pings = await Task.WhenAll(Roles.Append(Stolen).Select(r => Probes.PingUntilAnsweredAsync(Host(r), Underlay.BridgeAddress, "bridge", TimeSpan.FromSeconds(10)))
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

    private async Task A_copy_of_dyn_a_s_state_directory_running_elsewhere_opens_a_session_conflict_and_cuts_off_both_copies()
    {
        Step("stolen config: dyn-a's state directory (private key, session token) copied to the fourth namespace (198.18.0.5), " +
             "a second `wirety-agent run` from the copy → sessionConflict incident, dyn-a blocked, both copies cut off");
        var dynA = _peers["dyn-a"];
        _stolenHost = mesh.Underlay[Stolen];
        var copy = await mesh.CopyStateDirectoryAsync(_agents["dyn-a"], Stolen);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(_agents["dyn-a"].StateDir, "identity.json")), await File.ReadAllBytesAsync(Path.Combine(copy, "identity.json")));
        Note($"copied {_agents["dyn-a"].StateDir} → {copy} ({string.Join(", ", Directory.GetFiles(copy).Select(Path.GetFileName).Order())}); identity.json identical");

        var marks = Marks();
        var stolen = _agents[Stolen] = mesh.NewAgent(_stolenHost, copy);
        var copyStarted = _clock.Elapsed;
        stolen.Start(Heartbeat, Poll);
        marks[Stolen] = 0; // everything the copy logs

        IncidentDto? open = null;
        var detected = await Probes.EventuallyAsync(async () => (open = (await _api.IncidentsAsync("open", dynA.Id)).FirstOrDefault()) is not null,
            DetectionTimeout, TimeSpan.FromMilliseconds(200));
        Assert.True(detected,
            $"no incident opened for dyn-a within {DetectionTimeout.TotalSeconds:0} s of starting a second agent on a copy of its state directory " +
            $"(same session, heartbeats every {Heartbeat.TotalSeconds:0} s from 198.18.0.3 and 198.18.0.5)\n" +
            $"{await AuditTrailAsync(dynA.Id)}\n" +
            $"{mesh.Server.Log.Tail(30)}\n{stolen.Log.Tail(20)}");
        Note($"incident {open!.Id} visible over the API {(_clock.Elapsed - copyStarted).TotalSeconds:0.0} s after the copy started");

        var incident = _incident = await _api.IncidentAsync(open.Id);
        Assert.True(incident.Type == "sessionConflict", $"the incident should be a sessionConflict, is {incident.Type}: {incident.Summary}");
        Assert.True(incident.State == "open" && incident.PeerId == dynA.Id && incident.NetworkId == _network.Id,
            $"the incident should be open for dyn-a ({dynA.Id}) in network {_network.Id}: {incident}");
        Note($"incident {incident.Id}: {incident.Type}, detected {incident.DetectedAt:HH:mm:ss.fff}: {incident.Summary}");
        foreach (var e in incident.Evidence) Note($"  evidence: {e}");
        var sources = incident.Evidence.Select(e => e.SourceAddress).ToList();
        Assert.True(sources.Contains(Host("dyn-a").UnderlayAddress) && sources.Contains(_stolenHost.UnderlayAddress),
            $"the evidence should list heartbeats from both {Host("dyn-a").UnderlayAddress} (dyn-a) and {_stolenHost.UnderlayAddress} (the copy); " +
            $"it lists: {string.Join("; ", incident.Evidence)}");
        Assert.True(incident.Evidence.Select(e => e.SessionId).Distinct().Count() == 1 && incident.Evidence.All(e => e.HeartbeatId != Guid.Empty),
            $"every evidence entry should be a heartbeat of the one session both copies share: {string.Join("; ", incident.Evidence)}");

        // Same transaction: the block carries the detector as actor, the incident's id and the detection time.
        var events = await _api.NetworkEventsAsync(_network.Id);
        var block = events.LastOrDefault(e => e.Type == "PeerBlocked" && e.PeerId == dynA.Id);
        Assert.True(block is not null && block.Actor?.Name == "wirety:detection" && block.Text("reason")?.Contains(incident.Id.ToString(), StringComparison.Ordinal) == true,
            $"the audit trail should show dyn-a blocked by wirety:detection for incident {incident.Id}; last PeerBlocked: " +
            $"{(block is null ? "none" : $"{block.Actor?.Name}: {block.Text("reason")}")}");
        Assert.True((await _api.GetPeerAsync(_network.Id, dynA.Id)).Blocked, "dyn-a should be blocked");
        var first = incident.Evidence.First(e => e.SourceAddress == _stolenHost.UnderlayAddress);
        var moved = events.FirstOrDefault(e => e.Type == "EndpointChanged" && e.PeerId == dynA.Id && e.Text("endpoint")?.StartsWith(_stolenHost.UnderlayAddress + ":", StringComparison.Ordinal) == true);
        Note($"timeline: copy's first heartbeat seen {first.At:HH:mm:ss.fff}" +
             (moved is null ? "" : $" (it moved dyn-a's observed endpoint to {moved.Text("endpoint")} at {moved.Timestamp:HH:mm:ss.fff})") +
             $"; dyn-a seen again from {Host("dyn-a").UnderlayAddress} {incident.DetectedAt:HH:mm:ss.fff} (+{(incident.DetectedAt - first.At).TotalSeconds:0.00} s) → " +
             $"incident + PeerBlocked committed {block!.Timestamp:HH:mm:ss.fff} (+{(block.Timestamp - incident.DetectedAt).TotalMilliseconds:0} ms)");

        // Both copies hold the one session, so both get the push: their own config lists no peers now.
        await AssertPushedAndAppliedAsync(marks, incident.DetectedAt, "block dyn-a (detected)", "the detecting heartbeat", mayFetchOnConnect: Stolen);
        var aKey = dynA.PublicKey!;
        await AssertWgEventuallyAsync("dyn-a", peers => peers.Count == 0, "the legitimate dyn-a, blocked, should list no peers");
        await AssertWgEventuallyAsync(Stolen, peers => peers.Count == 0, "the stolen copy, blocked with dyn-a, should list no peers");
        await AssertWgEventuallyAsync("jump", peers => peers.All(p => p.PublicKey != aKey), "the jump should drop dyn-a's key");
        await AssertWgEventuallyAsync("dyn-b", peers => peers.All(p => p.PublicKey != aKey), "dyn-b should drop dyn-a's key");

        var cut = await Task.WhenAll(
            Probes.PingOnceAsync(Host("dyn-a"), Address("jump"), "jump"), Probes.PingOnceAsync(Host("dyn-a"), Address("dyn-b"), "dyn-b"),
            Probes.PingOnceAsync(_stolenHost, Address("jump"), "jump"), Probes.PingOnceAsync(_stolenHost, Address("dyn-b"), "dyn-b"),
            Probes.PingOnceAsync(Host("jump"), Address("dyn-a"), "dyn-a"), Probes.PingOnceAsync(Host("dyn-b"), Address("dyn-a"), "dyn-a"));
        foreach (var p in cut) Note($"dyn-a blocked: {p}");
        Assert.True(cut.All(p => !p.Succeeded),
            "with dyn-a blocked, no ping from either copy of it (dyn-a, stolen) to the jump or dyn-b, nor to dyn-a's address, should get through:\n" +
            string.Join('\n', cut.Where(p => p.Succeeded)));

        var rest = await Task.WhenAll(
            Probes.PingUntilAnsweredAsync(Host("jump"), Address("dyn-b"), "dyn-b", TimeSpan.FromSeconds(10)),
            Probes.PingUntilAnsweredAsync(Host("dyn-b"), Address("jump"), "jump", TimeSpan.FromSeconds(10)));
        await AssertAllSucceededAsync(rest, "blocking dyn-a must not disturb jump ↔ dyn-b");
    }

    private async Task Resolving_with_unblock_after_the_copy_is_gone_brings_dyn_a_back_and_resolving_again_is_a_no_op()
    {
        Step("stop the stolen copy (SIGKILL its agent, delete its interface and namespace); resolve the incident with unblock → dyn-a back; resolving again is a no-op");
        var dynA = _peers["dyn-a"];
        var incident = _incident!;
        var stolenHost = _stolenHost!;
        var killedAt = DateTimeOffset.UtcNow;
        await _agents[Stolen].KillAsync();
        Assert.False(_agents[Stolen].IsRunning, "the stolen copy's agent should be gone");
        var left = await mesh.Underlay.RemoveHostAsync(stolenHost);
        Assert.True(left.Count == 0, $"the stolen copy's namespace, links and wireguard-go socket should be gone; left: {string.Join(", ", left)}");
        Note($"stolen copy stopped: agent exit {_agents[Stolen].ExitCode}; {stolenHost.Namespace}, {stolenHost.WgInterface}, {stolenHost.HostVeth} removed");

        // Before the admin unblocks, the server's view of where dyn-a is must be dyn-a's own place again
        // (recorded with the detecting heartbeat, or with dyn-a's next one if the copy heartbeated after the block).
        var own = $"{Host("dyn-a").UnderlayAddress}:51821";
        NetworkEventDto? moved = null;
        var settled = await Probes.EventuallyAsync(async () =>
            (moved = (await _api.NetworkEventsAsync(_network.Id)).LastOrDefault(e => e.Type == "EndpointChanged" && e.PeerId == dynA.Id))?.Text("endpoint") == own,
            TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(250));
        Assert.True(settled, $"with the copy gone, dyn-a's observed endpoint should be its own {own} again (dyn-a heartbeats every {Heartbeat.TotalSeconds:0} s; " +
                             $"last acknowledged {_agents["dyn-a"].LastHeartbeatAt():HH:mm:ss.fff}, copy killed {killedAt:HH:mm:ss.fff}), is {moved?.Text("endpoint")}\n{await AuditTrailAsync(dynA.Id)}");
        Note($"dyn-a's observed endpoint is {own} (EndpointChanged {moved!.Text("previousEndpoint")} → {own} at {moved.Timestamp:HH:mm:ss.fff})");

        var marks = Marks();
        var resolvedAt = DateTimeOffset.UtcNow;
        const string note = "e2e: the stolen copy was wiped; dyn-a keeps its key";
        var resolved = await _api.ResolveIncidentAsync(incident.Id, note, unblock: true);
        Assert.True(resolved is { State: "resolved", Unblocked: true, ResolutionNote: note } && resolved.ResolvedBy?.Name == "bootstrap-admin",
            $"the resolve response should show the incident resolved by bootstrap-admin with unblock and the note; got {resolved}");
        Assert.False((await _api.GetPeerAsync(_network.Id, dynA.Id)).Blocked, "resolving with unblock should unblock dyn-a");
        await AssertPushedAndAppliedAsync(marks, resolvedAt, "resolve the incident with unblock");
        var bConfig = (await _api.GetConfigAsync(_network.Id, _peers["dyn-b"].Id)).Text;
        Assert.True(bConfig.Contains($"Endpoint = {own}", StringComparison.Ordinal) && !bConfig.Contains(stolenHost.UnderlayAddress, StringComparison.Ordinal),
            $"after the unblock dyn-b's config should list dyn-a at its own endpoint {own}, never at the copy's address {stolenHost.UnderlayAddress}:\n{bConfig}");

        var aKey = dynA.PublicKey!;
        await AssertWgEventuallyAsync("dyn-a", peers => peers.Any(p => p.PublicKey == _peers["jump"].PublicKey) && peers.Any(p => p.PublicKey == _peers["dyn-b"].PublicKey),
            "dyn-a should list the jump and dyn-b again");
        await AssertWgEventuallyAsync("jump", peers => peers.Any(p => p.PublicKey == aKey), "the jump should list dyn-a again");
        await AssertWgEventuallyAsync("dyn-b", peers => peers.Any(p => p.PublicKey == aKey), "dyn-b should list dyn-a again");
        await AssertAllSucceededAsync(await PingAllPairsAsync(TimeSpan.FromSeconds(30)),
            "after the copy is gone and the incident is resolved with unblock, dyn-a should ping the jump and dyn-b (and they it) again");

        var eventsBefore = await _api.NetworkEventsAsync(_network.Id);
        var configBefore = (await _api.GetConfigAsync(_network.Id, dynA.Id)).Version;
        var again = await _api.ResolveIncidentAsync(incident.Id, "e2e: resolving twice", unblock: true);
        var eventsAfter = await _api.NetworkEventsAsync(_network.Id);
        Assert.True(again.State == "resolved" && again.ResolvedAt == resolved.ResolvedAt && again.ResolutionNote == note,
            $"resolving again should answer 200 with the incident as it was resolved the first time; got {again}");
        Assert.True(eventsAfter.Count(e => e.Type is "PeerUnblocked" or "PeerBlocked") == eventsBefore.Count(e => e.Type is "PeerUnblocked" or "PeerBlocked")
                    && (await _api.GetConfigAsync(_network.Id, dynA.Id)).Version == configBefore,
            "resolving again should append nothing (no further unblock, no config change)");
        Note($"resolved again: HTTP 200, still resolved at {again.ResolvedAt:HH:mm:ss.fff} with the first note; no new events, dyn-a's config version still {configBefore}");
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
        _restartedAt = DateTimeOffset.UtcNow;
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

    private async Task The_resolved_incident_stays_resolved_and_dyn_a_unblocked()
    {
        Step("after the restart dyn-a's heartbeats go through detection afresh (the sighting filter is in memory), " +
             "with the copy's sightings still inside the 5 min window: the resolved incident must not come back");
        var dynA = _peers["dyn-a"];
        // The first heartbeat to the new instance is always a sighting; once a second one is acknowledged,
        // the first has long been through detection (it runs right after the acknowledgement).
        var acked = new List<DateTimeOffset>();
        var twice = await Probes.EventuallyAsync(() =>
        {
            if (_agents["dyn-a"].LastHeartbeatAt() is { } at && at > _restartedAt && !acked.Contains(at)) acked.Add(at);
            return Task.FromResult(acked.Count >= 2);
        }, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(100));
        Assert.True(twice, $"dyn-a should have two heartbeats acknowledged by the restarted server; has {acked.Count}\n{_agents["dyn-a"].Log.Tail()}");
        Note($"dyn-a heartbeats acknowledged since the restart: {string.Join(", ", acked.Select(a => a.ToString("HH:mm:ss.fff")))}");

        var incidents = await _api.IncidentsAsync(null, dynA.Id);
        var peer = await _api.GetPeerAsync(_network.Id, dynA.Id);
        Assert.True(incidents.Count == 1 && incidents[0].Id == _incident!.Id && incidents[0].State == "resolved" && !peer.Blocked,
            $"dyn-a should have exactly one incident ({_incident.Id}, resolved) and stay unblocked; it has " +
            $"{string.Join("; ", incidents.Select(i => $"{i.Id} {i.Type} {i.State} detected {i.DetectedAt:HH:mm:ss.fff}, evidence {string.Join(" | ", i.Evidence)}"))}" +
            $"; blocked: {peer.Blocked}. A new incident whose evidence predates {incidents.FirstOrDefault(i => i.Id == _incident.Id)?.ResolvedAt:HH:mm:ss.fff} " +
            "(the resolution) means detection judged dyn-a again on sightings the admin had already resolved");
        await AssertAllSucceededAsync(await Task.WhenAll(
                Probes.PingUntilAnsweredAsync(Host("dyn-a"), Address("jump"), "jump", TimeSpan.FromSeconds(10)),
                Probes.PingUntilAnsweredAsync(Host("dyn-a"), Address("dyn-b"), "dyn-b", TimeSpan.FromSeconds(10))),
            "dyn-a should still reach the jump and dyn-b");
        Note($"dyn-a: one incident ({_incident.Id}, resolved), not blocked, still pings the jump and dyn-b");
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

    private Dictionary<string, int> Marks(params string[] extra) => Roles.Concat(extra).ToDictionary(r => r, r => _agents[r].Log.Mark());

    private async Task<LogLine?> WaitForLogAsync(string role, int mark, Func<string, bool> match, TimeSpan timeout)
    {
        LogLine? found = null;
        await Probes.EventuallyAsync(() => Task.FromResult((found = _agents[role].Log.Since(mark).FirstOrDefault(l => match(l.Text))) is not null), timeout);
        return found;
    }

    /// <summary>
    /// Every agent logs that the server pushed config-changed for its new config version and fetched it (or applied
    /// signed deltas up to that version)
    /// and planned the interface changes, each within <see cref="PushTimeout"/>; the latency from the admin call is logged.
    /// With a poll interval of <see cref="Poll"/>, nothing but the push can have triggered that fetch.
    /// Checks the agents that <paramref name="marks"/> names. An agent in <paramref name="mayFetchOnConnect"/>
    /// (just started) may instead have fetched the new version right after its WebSocket connected.
    /// </summary>
    /// <summary>The agent applied a signed delta that moved its config to <paramref name="version"/>.</summary>
    private static bool IsDeltaTo(string line, long version) =>
        line.Contains(" delta ", StringComparison.Ordinal) && line.Contains($" → {version}: ", StringComparison.Ordinal);

    private async Task AssertPushedAndAppliedAsync(Dictionary<string, int> marks, DateTimeOffset changedAt, string change,
        string since = "the API call", params string[] mayFetchOnConnect)
    {
        foreach (var role in marks.Keys)
        {
            var version = (await _api.GetConfigAsync(_network.Id, PeerOf(role).Id)).Version;
            var agent = _agents[role];
            // Agents pin the server's signing key at enrollment, so the change arrives as signed deltas that carry it
            // ("delta peer-removed: version 13 → 14: …"); an agent without one gets config-changed and fetches.
            var pushed = await WaitForLogAsync(role, marks[role], l => l.EndsWith($"fetching config: server pushed config-changed {version}", StringComparison.Ordinal)
                || IsDeltaTo(l, version)
                || (mayFetchOnConnect.Contains(role) && ConfigChanged().Match(l) is { Success: true } m && m.Groups["to"].Value == $"{version}"), PushTimeout);
            var fetched = pushed is not null && IsDeltaTo(pushed.Text, version) ? pushed
                : await WaitForLogAsync(role, marks[role], l => ConfigChanged().Match(l) is { Success: true } m && m.Groups["to"].Value == $"{version}", PushTimeout);
            var planned = await WaitForLogAsync(role, marks[role], l => l.Contains($"change(s) for config version {version}:", StringComparison.Ordinal), PushTimeout);
            if (pushed is not null && !pushed.Text.Contains("server pushed", StringComparison.Ordinal) && !IsDeltaTo(pushed.Text, version)) // the version came with a fetch: which one?
                pushed = _agents[role].Log.Since(marks[role]).LastOrDefault(l => l.Index < pushed.Index && l.Text.Contains("fetching config: ", StringComparison.Ordinal)) ?? pushed;
            Assert.True(pushed is not null && fetched is not null && planned is not null,
                $"after '{change}' the {role} agent should log the push of config version {version}, the fetch and the interface changes " +
                $"(push: {pushed?.Text ?? "missing"}; fetch: {fetched?.Text ?? "missing"}; plan: {planned?.Text ?? "missing"})\n{agent.Log.Tail()}");
            var latency = (planned!.Stamp ?? planned.ReceivedAt) - changedAt;
            var trigger = IsDeltaTo(pushed!.Text, version)
                ? $"signed delta received {((pushed.Stamp ?? pushed.ReceivedAt) - changedAt).TotalMilliseconds:0} ms ({pushed.Text[(pushed.Text.IndexOf(" delta ", StringComparison.Ordinal) + 1)..]})"
                : pushed.Text.Contains("server pushed", StringComparison.Ordinal)
                ? $"push received {((pushed.Stamp ?? pushed.ReceivedAt) - changedAt).TotalMilliseconds:0} ms"
                : $"no push, fetched ({pushed.Text})";
            Note($"{role}: {change} → {trigger}, interface changes planned {latency.TotalMilliseconds:0} ms after {since}: {planned.Text}");
        }
    }

    private async Task AssertWgEventuallyAsync(string role, Func<IReadOnlyList<WgPeer>, bool> condition, string what)
    {
        IReadOnlyList<WgPeer> peers = [];
        Assert.True(await Probes.EventuallyAsync(async () => condition(peers = await Probes.WgPeersAsync(Host(role))), TimeSpan.FromSeconds(10)),
            $"{what}; {role}'s wg peers: {string.Join("; ", peers)}\n{_agents[role].Log.Tail()}");
        Note($"{role} wg peers: {(peers.Count == 0 ? "(none)" : string.Join("; ", peers.Select(p => $"{NameOfKey(p.PublicKey)} {p}")))}");
    }

    /// <summary>The peer's entries of the network's audit trail, for failure messages.</summary>
    private async Task<string> AuditTrailAsync(Guid peerId) =>
        "audit trail of the peer:\n" + string.Join('\n', (await _api.NetworkEventsAsync(_network.Id)).Where(e => e.PeerId == peerId).TakeLast(15)
            .Select(e => $"  v{e.Version} {e.Timestamp:HH:mm:ss.fff} {e.Type} by {e.Actor?.Name ?? "-"}" +
                         (e.Type == "EndpointChanged" ? $": {e.Text("previousEndpoint")} → {e.Text("endpoint")}" : e.Text("reason") is { } r ? $": {r}" : "")));

    private string NameOfKey(string publicKey) => _peers.FirstOrDefault(p => p.Value.PublicKey == publicKey).Key ?? "?";

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
