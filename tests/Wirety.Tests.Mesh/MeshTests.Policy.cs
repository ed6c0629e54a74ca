using Wirety.Tests.Mesh.Harness;

namespace Wirety.Tests.Mesh;

/// <summary>
/// Segmentation proven by packets: the filters the server computes are enforced by the agents in the
/// kernel (nftables), so what policy denies is dropped even on a path WireGuard would carry — and even
/// when a host owner rewrites his own routes and WireGuard config. Every "is dropped" is judged only
/// after the same probe (or the same path) was shown to work.
/// </summary>
public sealed partial class MeshTests
{
    private const int Ssh = 22;
    /// <summary>How long a probe that must fail waits for an answer (a dropped SYN or echo request gets none).</summary>
    private static readonly TimeSpan DeniedProbeTimeout = TimeSpan.FromSeconds(3);

    private readonly Dictionary<string, EchoServer> _echo = [];
    private TcpConnection? _live;
    private Guid _policyId;

    private async Task Under_default_deny_one_policy_lets_dyn_a_reach_dyn_b_on_tcp_22_and_nothing_else()
    {
        Step("segmentation: default policy deny + one policy dyn-a → dyn-b tcp/22, pushed to every agent and enforced by their packet filters: " +
             "dyn-a's TCP connection to dyn-b:22 carries data; dyn-a's ping to dyn-b and dyn-b's TCP to dyn-a:22 are dropped");
        var (a, b) = (Host("dyn-a"), Host("dyn-b"));
        var (aAddr, bAddr) = (Address("dyn-a"), Address("dyn-b"));
        _echo["dyn-a"] = EchoServer.Start(a, Ssh);
        _echo["dyn-b"] = EchoServer.Start(b, Ssh);
        Note($"TCP echo servers listening on port {Ssh} inside {a.Namespace} and {b.Namespace}");

        // Under allow, every probe judged below gets through: what fails afterwards is the policy's doing.
        var allowed = await Task.WhenAll(
            TcpConnection.ProbeUntilSucceededAsync(a, bAddr, "dyn-b", Ssh, TimeSpan.FromSeconds(10)),
            TcpConnection.ProbeUntilSucceededAsync(b, aAddr, "dyn-a", Ssh, TimeSpan.FromSeconds(10)));
        var allowedPing = await Probes.PingUntilAnsweredAsync(a, bAddr, "dyn-b", TimeSpan.FromSeconds(10));
        foreach (var probe in allowed) Note($"default allow: {probe}");
        Note($"default allow: {allowedPing}");
        if (!allowed.All(p => p.Succeeded) || !allowedPing.Succeeded)
            Assert.Fail("under the default allow, dyn-a ↔ dyn-b TCP on port 22 and dyn-a's ping to dyn-b should all get through " +
                        $"(else nothing below can be judged):\n{string.Join('\n', allowed)}\n{allowedPing}\n{await ExplainAsync("dyn-a", "dyn-b", "jump")}");

        var before = await ConfigVersionsAsync();
        var marks = Marks();
        var changedAt = DateTimeOffset.UtcNow;
        var network = await _api.UpdateNetworkAsync(_network.Id, new { defaultPolicy = "deny" });
        Assert.True(network.DefaultPolicy == "deny", $"the PATCH response should show defaultPolicy deny, shows '{network.DefaultPolicy}'");
        var policy = await _api.CreatePolicyAsync(_network.Id, new
        {
            name = "dyn-a ssh to dyn-b",
            sources = new { groups = Array.Empty<string>(), peers = new[] { PeerOf("dyn-a").Id } },
            destinations = new { groups = Array.Empty<string>(), peers = new[] { PeerOf("dyn-b").Id } },
            ports = new[] { "tcp/22" },
        });
        _policyId = policy.Id;
        Note($"network {_network.Id}: defaultPolicy deny; policy {policy.Id} ('{policy.Name}') dyn-a → dyn-b tcp/22");
        await AssertFetchedAsync(marks, before, changedAt, "default deny + policy dyn-a → dyn-b tcp/22");

        await AssertFilterEventuallyAsync("dyn-b", marks, t => t.PolicyRules("input").SequenceEqual([$"ip saddr {aAddr} tcp dport 22 accept", "drop"]),
            "dyn-b's input filter should accept dyn-a on tcp/22 and drop everything else");
        await AssertFilterEventuallyAsync("dyn-a", marks, t => t.PolicyRules("input").SequenceEqual(["drop"]),
            "dyn-a's input filter should drop everything new (no policy names dyn-a as a destination)");
        await AssertFilterEventuallyAsync("jump", marks, t => t.PolicyRules("input").SequenceEqual(["drop"])
                && t.PolicyRules("forward").Where(r => r.EndsWith(" accept", StringComparison.Ordinal)).SequenceEqual([$"ip saddr {aAddr} ip daddr {bAddr} tcp dport 22 accept"]),
            "the jump should accept nothing new for itself and forward only dyn-a → dyn-b tcp/22");

        // Allowed: retried for a moment, since dyn-a ↔ dyn-b may be switching between the direct entry and the jump
        // (either path is filtered the same way). The connection stays open for the next step.
        TcpResult? connected = null, exchanged = null;
        var opened = await Probes.EventuallyAsync(async () =>
        {
            (_live, connected) = await TcpConnection.ConnectAsync(a, bAddr, "dyn-b", Ssh, TimeSpan.FromSeconds(2));
            if (_live is null) return false;
            exchanged = await _live.ExchangeAsync("hello under the policy\n", TimeSpan.FromSeconds(2));
            if (exchanged.Succeeded) return true;
            _live.Dispose();
            _live = null;
            return false;
        }, TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(200));
        Note($"allowed: {connected}; {exchanged}");
        if (!opened)
            Assert.Fail($"with the policy dyn-a → dyn-b tcp/22, dyn-a should open a TCP connection to dyn-b:{Ssh} and exchange data: {connected}; {exchanged}\n" +
                        await ExplainAsync("dyn-a", "dyn-b", "jump"));

        var deniedPing = Probes.PingOnceAsync(a, bAddr, "dyn-b");
        var deniedTcp = TcpConnection.ProbeAsync(b, aAddr, "dyn-a", Ssh, DeniedProbeTimeout);
        await Task.WhenAll(deniedPing, deniedTcp);
        Note($"denied: {deniedPing.Result}");
        Note($"denied: {deniedTcp.Result}");
        if (deniedPing.Result.Succeeded || deniedTcp.Result.Succeeded)
            Assert.Fail("the policy allows only dyn-a → dyn-b tcp/22: dyn-a's ping to dyn-b (ICMP) and dyn-b's TCP connection to dyn-a:22 " +
                        $"(the other direction) should be dropped, as the default is deny; these got through:\n" +
                        $"{(deniedPing.Result.Succeeded ? deniedPing.Result + "\n" : "")}{(deniedTcp.Result.Succeeded ? deniedTcp.Result + "\n" : "")}" +
                        await ExplainAsync("dyn-a", "dyn-b", "jump"));
    }

    private async Task Deleting_the_policy_cuts_the_live_connection_within_a_push()
    {
        Step("delete the policy: pushed; dyn-b's and the jump's filters no longer accept dyn-a on tcp/22, so the connection opened under the policy " +
             "stops carrying data (checked on every packet, not only on new connections), and a new connection fails");
        var (a, bAddr) = (Host("dyn-a"), Address("dyn-b"));
        var live = _live ?? throw new InvalidOperationException("the previous step left no open connection");
        var still = await live.ExchangeAsync("still there before the delete\n", TimeSpan.FromSeconds(10));
        Note($"before the delete: {still}");
        if (!still.Succeeded)
            Assert.Fail($"right before the delete, the connection opened under the policy should still carry data: {still}\n{await ExplainAsync("dyn-a", "dyn-b", "jump")}");

        var before = await ConfigVersionsAsync();
        var marks = Marks();
        var deletedAt = DateTimeOffset.UtcNow;
        await _api.DeletePolicyAsync(_network.Id, _policyId);
        await AssertFetchedAsync(marks, before, deletedAt, $"delete policy {_policyId}");
        await AssertFilterEventuallyAsync("dyn-b", marks, t => t.PolicyRules("input").SequenceEqual(["drop"]),
            "dyn-b's input filter should accept nothing new any more");
        await AssertFilterEventuallyAsync("jump", marks, t => !t.PolicyRules("forward").Any(r => r.EndsWith(" accept", StringComparison.Ordinal)),
            "the jump should forward nothing between peers any more");

        var marker = $"after the delete {Guid.NewGuid():N}";
        var sent = live.ExchangeAsync(marker + "\n", DeniedProbeTimeout);
        var fresh = TcpConnection.ProbeAsync(a, bAddr, "dyn-b", Ssh, DeniedProbeTimeout);
        await Task.WhenAll(sent, fresh);
        var arrived = _echo["dyn-b"].Received.Contains(marker, StringComparison.Ordinal);
        Note($"after the delete, on the live connection: {sent.Result}; dyn-b's server received it: {(arrived ? "yes" : "no")}");
        Note($"after the delete, a new connection: {fresh.Result}");
        if (sent.Result.Succeeded || arrived || fresh.Result.Succeeded)
            Assert.Fail("with the policy deleted, data dyn-a sends on the connection opened under the policy must no longer reach dyn-b, " +
                        $"and a new connection must fail; live connection: {sent.Result} (received by dyn-b: {arrived}); new connection: {fresh.Result}\n" +
                        await ExplainAsync("dyn-a", "dyn-b", "jump"));
        live.Dispose();
        _live = null;
    }

    private async Task An_isolated_peer_that_routes_the_network_through_the_jump_by_hand_still_reaches_only_the_jump()
    {
        Step("isolation: default back to allow and dyn-b isolated (pushed); then dyn-b's owner stops its agent, deletes its filter and routes the whole " +
             $"network ({Cidr}) through the jump by hand: dyn-b still reaches the jump, but not dyn-a — the jump's forward filter drops it");
        var (a, b) = (Host("dyn-a"), Host("dyn-b"));
        var (aAddr, bAddr, jAddr) = (Address("dyn-a"), Address("dyn-b"), Address("jump"));
        var (bKey, jumpKey) = (PeerOf("dyn-b").PublicKey!, PeerOf("jump").PublicKey!);

        var before = await ConfigVersionsAsync();
        var marks = Marks();
        var changedAt = DateTimeOffset.UtcNow;
        var network = await _api.UpdateNetworkAsync(_network.Id, new { defaultPolicy = "allow" });
        Assert.True(network.DefaultPolicy == "allow", $"the PATCH response should show defaultPolicy allow, shows '{network.DefaultPolicy}'");
        var peer = await _api.UpdatePeerAsync(_network.Id, PeerOf("dyn-b").Id, new { isolated = true });
        Assert.True(peer.Isolated, $"the PATCH response should show dyn-b isolated: {peer}");
        await AssertFetchedAsync(marks, before, changedAt, "default allow + dyn-b isolated");

        await AssertFilterEventuallyAsync("jump", marks, t => t.PolicyRules("forward") is var forward
                && forward.Contains($"ip saddr {bAddr} ip daddr {Cidr} drop") && forward.Contains($"ip daddr {bAddr} drop"),
            "the jump's forward filter should drop what the isolated dyn-b sends into the network and what is sent to it");
        await AssertFilterEventuallyAsync("dyn-b", marks, t => t.PolicyRules("input").SequenceEqual([$"ip saddr {jAddr} accept", "drop"]),
            "the isolated dyn-b's input filter should accept the jump only");
        await AssertFilterEventuallyAsync("dyn-a", marks, t => t.PolicyRules("input").SequenceEqual(["accept", "drop"]),
            "under allow, dyn-a's input filter should accept anything arriving on its tunnel again");
        await AssertWgEventuallyAsync("dyn-b", peers => peers is [{ } only] && only.PublicKey == jumpKey && only.AllowedIps.SequenceEqual([$"{jAddr}/32"]),
            "the isolated dyn-b should list the jump only, with the jump's /32 only");
        await AssertWgEventuallyAsync("dyn-a", peers => peers.All(p => p.PublicKey != bKey), "dyn-a should drop its direct entry for the isolated dyn-b");

        // dyn-b's owner takes over: no agent to put things back, no local filter, the network routed through the jump.
        await _agents["dyn-b"].StopAsync();
        Assert.False(_agents["dyn-b"].IsRunning, $"dyn-b's agent should have stopped on SIGTERM\n{_agents["dyn-b"].Log.Tail()}");
        var iface = b.WgInterface;
        var hadFilter = (await Probes.FilterAsync(b)).Exists;
        if (hadFilter) await Sh.MustInNamespaceAsync(b.Namespace, "nft", "delete", "table", "inet", "wirety_filter");
        await Sh.MustInNamespaceAsync(b.Namespace, "wg", "set", iface, "peer", jumpKey, "allowed-ips", Cidr);
        await Sh.MustInNamespaceAsync(b.Namespace, "ip", "route", "replace", Cidr, "dev", iface);
        var routes = string.Join("; ", (await Sh.MustInNamespaceAsync(b.Namespace, "ip", "-4", "route", "show", "dev", iface))
            .Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
        Note($"dyn-b by hand: agent stopped (exit {_agents["dyn-b"].ExitCode}); {(hadFilter ? "nft delete table inet wirety_filter" : "no filter table left to delete")}; " +
             $"wg set {iface} peer {jumpKey[..8]}… allowed-ips {Cidr}; ip route replace {Cidr} dev {iface} → routes: {routes}");
        Note($"dyn-b wg peers: {string.Join("; ", (await Probes.WgPeersAsync(b)).Select(p => $"{NameOfKey(p.PublicKey)} {p}"))}");

        // The same tunnel entry carries dyn-b's packets to the jump...
        var toJump = await Probes.PingUntilAnsweredAsync(b, jAddr, "jump", TimeSpan.FromSeconds(10));
        Note($"isolated, by hand: {toJump}");
        if (!toJump.Succeeded)
            Assert.Fail($"dyn-b should still reach the jump over its tunnel: {toJump}\n{await ExplainAsync("dyn-b", "jump")}");

        // ...and its pings to dyn-a arrive at the jump (its counters for dyn-b grow by at least their size), where they end.
        var jumpBefore = await DirectEntryAsync("jump", "dyn-b");
        var ping = await Sh.InNamespaceAsync(b.Namespace, "ping", "-n", "-c", "3", "-i", "0.2", "-W", "1", aAddr);
        var jumpAfter = await DirectEntryAsync("jump", "dyn-b");
        var pingSummary = ping.Stdout.Split('\n').FirstOrDefault(l => l.Contains("packets transmitted", StringComparison.Ordinal)) ?? (ping.Stdout + ping.Stderr).Trim();
        Note($"isolated, by hand: dyn-b → dyn-a ({aAddr}) ping -c3: {pingSummary}; the jump's entry for dyn-b received {jumpAfter.RxBytes - jumpBefore.RxBytes} bytes meanwhile");
        var tcp = TcpConnection.ProbeAsync(b, aAddr, "dyn-a", Ssh, DeniedProbeTimeout);
        var reverse = Probes.PingOnceAsync(a, bAddr, "dyn-b");
        await Task.WhenAll(tcp, reverse);
        Note($"isolated, by hand: {tcp.Result}");
        Note($"isolated, by hand: {reverse.Result}");

        Assert.True(jumpAfter.RxBytes - jumpBefore.RxBytes >= 3 * 84,
            $"dyn-b's pings to dyn-a should reach the jump through the hand-made route (≥ 252 bytes on the jump's entry for dyn-b), " +
            $"else their loss proves nothing; got +{jumpAfter.RxBytes - jumpBefore.RxBytes}\n{await ExplainAsync("dyn-b", "jump")}");
        if (ping.ExitCode == 0 || tcp.Result.Succeeded || reverse.Result.Succeeded)
            Assert.Fail("the isolated dyn-b, with its own filter gone and the network routed through the jump, must still not reach dyn-a, " +
                        "nor dyn-a it: the jump's forward filter drops it. Got through:\n" +
                        $"{(ping.ExitCode == 0 ? $"dyn-b → dyn-a ping: {pingSummary}\n" : "")}{(tcp.Result.Succeeded ? tcp.Result + "\n" : "")}" +
                        $"{(reverse.Result.Succeeded ? reverse.Result + "\n" : "")}{await ExplainAsync("dyn-b", "jump", "dyn-a")}");
    }

    // ---------------------------------------------------------------- helpers

    private async Task<Dictionary<string, long>> ConfigVersionsAsync()
    {
        var versions = new Dictionary<string, long>();
        foreach (var role in Roles) versions[role] = (await _api.GetConfigAsync(_network.Id, PeerOf(role).Id)).Version;
        return versions;
    }

    /// <summary>
    /// Every agent whose config version moved applied it from signed deltas or fetched it, triggered by a push (with a
    /// <see cref="Poll"/> of 120 s nothing else can have); the latency from the first API call is logged.
    /// Unlike <see cref="AssertPushedAndAppliedAsync"/> no interface change is required: a policy change
    /// may change only an agent's filter. Several quick changes may reach an agent as one fetch.
    /// </summary>
    private async Task AssertFetchedAsync(Dictionary<string, int> marks, Dictionary<string, long> before, DateTimeOffset changedAt, string change)
    {
        foreach (var role in marks.Keys)
        {
            var version = (await _api.GetConfigAsync(_network.Id, PeerOf(role).Id)).Version;
            if (version == before[role])
            {
                Note($"{role}: {change} leaves its config at version {version}");
                continue;
            }
            var fetched = await WaitForLogAsync(role, marks[role], l => (ConfigChanged().Match(l) is { Success: true } m && m.Groups["to"].Value == $"{version}")
                || IsDeltaTo(l, version), PushTimeout);
            if (fetched is not null && IsDeltaTo(fetched.Text, version))
            {
                // A signed delta (a filter change comes as config-replaced) carried the new version: no fetch needed.
                Note($"{role}: {change} → {fetched.Text[(fetched.Text.IndexOf(" delta ", StringComparison.Ordinal) + 1)..]}, " +
                     $"{((fetched.Stamp ?? fetched.ReceivedAt) - changedAt).TotalMilliseconds:0} ms after the first API call");
                continue;
            }
            var trigger = fetched is null ? null
                : _agents[role].Log.Since(marks[role]).LastOrDefault(l => l.Index < fetched.Index && l.Text.Contains("fetching config: ", StringComparison.Ordinal));
            Assert.True(fetched is not null && trigger is not null && trigger.Text.Contains("server pushed config-changed", StringComparison.Ordinal),
                $"after '{change}' the {role} agent should fetch its config version {version} on a push (fetch: {fetched?.Text ?? "missing"}; " +
                $"trigger: {trigger?.Text ?? "missing"})\n{_agents[role].Log.Tail()}");
            Note($"{role}: {change} → {trigger!.Text[(trigger.Text.IndexOf("fetching config: ", StringComparison.Ordinal) + 17)..]}, " +
                 $"version {version} fetched {((fetched!.Stamp ?? fetched.ReceivedAt) - changedAt).TotalMilliseconds:0} ms after the first API call");
        }
    }

    /// <summary>Polls the role's nftables table until <paramref name="condition"/> holds; notes it and the agent's last filter log line.</summary>
    private async Task AssertFilterEventuallyAsync(string role, Dictionary<string, int> marks, Func<NftTable, bool> condition, string what)
    {
        NftTable table = null!;
        if (!await Probes.EventuallyAsync(async () => condition(table = await Probes.FilterAsync(Host(role))), PushTimeout, TimeSpan.FromMilliseconds(200)))
            Assert.Fail($"{what}; {role}'s filter: {table}\n{await ExplainAsync(role)}");
        var logged = _agents[role].Log.Since(marks[role]).LastOrDefault(l => l.Text.Contains("packet filter for", StringComparison.Ordinal));
        Note($"{role} filter: {table}{(logged is null ? "" : $" — agent: {logged.Text[(logged.Text.IndexOf(": ", StringComparison.Ordinal) + 2)..]}")}");
    }

    /// <summary>For failure messages: each role's WireGuard peers, nftables ruleset and agent log tail.</summary>
    private async Task<string> ExplainAsync(params string[] roles)
    {
        var parts = new List<string>();
        foreach (var role in roles)
        {
            var host = Host(role);
            parts.Add($"---- {role} ({host.Namespace}) wg peers:\n  {string.Join("\n  ", (await Probes.WgPeersAsync(host)).Select(p => $"{NameOfKey(p.PublicKey)} {p}"))}\n" +
                      $"---- {role} nft list ruleset:\n{await Probes.RulesetAsync(host)}\n{_agents[role].Log.Tail(25)}");
        }
        return string.Join('\n', parts);
    }

    private async Task DisposePolicyProbesAsync()
    {
        _live?.Dispose();
        _live = null;
        foreach (var server in _echo.Values) await server.DisposeAsync();
        _echo.Clear();
    }
}
