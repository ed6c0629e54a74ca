using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Wirety.Tests.Cluster.Harness;
using Xunit.Abstractions;

namespace Wirety.Tests.Cluster;

/// <summary>
/// kill -9 of an instance while agents heartbeat to both instances and an admin writes to the one that dies:
/// every write and heartbeat it acknowledged is found through the survivor, and the agents converge there.
/// </summary>
[Trait("Category", "Faults")]
public sealed class ServerKillFaultTests(ClusterFixture cluster, ITestOutputHelper output) : ClusterTest(cluster, output), IClassFixture<ClusterFixture>
{
    private const int OnA = 4, OnB = 2, AdminAckedBeforeKill = 40, HeartbeatsAckedBeforeKill = 150;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task killing_an_instance_under_heartbeat_and_admin_load_loses_nothing_it_acknowledged_and_its_agents_converge_on_the_other()
    {
        var clock = Stopwatch.StartNew();
        var mesh = await AdminA.CreateNetworkAsync("faults-mesh", "10.81.0.0/24");
        var writes = new[] { await AdminA.CreateNetworkAsync("faults-w0", "10.82.0.0/24"), await AdminA.CreateNetworkAsync("faults-w1", "10.82.1.0/24") };

        // Agents enrolled through the instance they live on, each reporting its own endpoint (the mesh needs them).
        var agents = new List<Agent>();
        var home = new List<ServerNode>();
        for (var i = 0; i < OnA + OnB; i++)
        {
            home.Add(i < OnA ? A : B);
            agents.Add(await AdminA.AddAndEnrollAsync(home[i], mesh, $"agent{i}"));
        }
        string EndpointOf(int i) => $"198.18.1.{10 + i}:51820";
        for (var i = 0; i < agents.Count; i++) await home[i].HeartbeatAsync(agents[i], 51820, EndpointOf(i));
        await Eventually.HoldsAsync(async () =>
        {
            foreach (var agent in agents)
                if ((await B.AgentConfigAsync(agent)).Body.GetProperty("peers").GetArrayLength() != agents.Count - 1) return false;
            return true;
        }, Deadline, "every agent lists the other five directly (read through B)");

        var (markA, markB) = (A.Mark(), B.Mark());
        var sockets = new PushListener[agents.Count];
        for (var i = 0; i < agents.Count; i++) sockets[i] = await PushListener.ConnectAsync(home[i], agents[i], clock);
        for (var i = 0; i < agents.Count; i++) await WaitForSocketAsync(home[i], agents[i].PeerId, i < OnA ? markA : markB);

        // Load: two peer writers and a token writer on A; every agent heartbeats to its instance (and fetches its config).
        var ledger = new Ledger();
        using var stopAdmin = new CancellationTokenSource();
        using var stopBeats = new CancellationTokenSource();
        var killed = false;
        var admin = writes.Select(net => FaultLoad.AddPeersAsync(ledger, () => A, net, stopAdmin.Token))
            .Append(FaultLoad.IssueTokensAsync(ledger, () => A, stopAdmin.Token)).ToList();
        // A's agents move to B once A stops answering, as agents behind a load balancer would.
        var beats = agents.Select((agent, i) => FaultLoad.BeatAsync(ledger, () => killed ? B : home[i], agent, EndpointOf(i), stopBeats.Token)).ToList();

        await Eventually.HoldsAsync(() => Task.FromResult(ledger.AdminAcked >= AdminAckedBeforeKill && ledger.HeartbeatsAcked >= HeartbeatsAckedBeforeKill),
            Deadline, $"{AdminAckedBeforeKill} admin writes and {HeartbeatsAckedBeforeKill} heartbeats acknowledged");
        var beatsAtKill = agents.Select(a => ledger.Heartbeats[a.PeerId].Count).ToList();
        await A.KillAsync(); // while writes and heartbeats are mid-request
        var killedAt = clock.Elapsed;
        killed = true;
        ledger.Phase = "after kill";
        stopAdmin.Cancel();
        await Task.WhenAll(admin).WaitAsync(Deadline);

        // A's agents reconnect their sockets to B; all of them keep heartbeating there.
        for (var i = 0; i < OnA; i++) Assert.True(await Closes(sockets[i]), $"agent{i}'s socket to A did not end with A");
        markB = B.Mark();
        for (var i = 0; i < OnA; i++)
        {
            await sockets[i].DisposeAsync();
            sockets[i] = await PushListener.ConnectAsync(B, agents[i], clock);
        }
        for (var i = 0; i < OnA; i++) await WaitForSocketAsync(B, agents[i].PeerId, markB);
        var (_, _) = await Eventually.HoldsAsync(
            () => Task.FromResult(agents.Select((a, i) => ledger.Heartbeats[a.PeerId].Count >= beatsAtKill[i] + 3).All(x => x)),
            Deadline, "every agent has three more heartbeats acknowledged after the kill");
        var resumed = clock.Elapsed - killedAt;
        stopBeats.Cancel();
        await Task.WhenAll(beats).WaitAsync(Deadline);

        // Everything acknowledged is found through B: peers, tokens, and each heartbeat by its uptimeSeconds.
        var found = 0;
        foreach (var net in writes)
        {
            var listed = (await AdminB.GetFromJsonAsync<List<IdView>>($"/api/v1/networks/{net}/peers"))!.Select(p => p.Id).ToHashSet();
            found += ledger.Peers.Count(p => p.Network == net && listed.Contains(p.Peer));
        }
        var tokens = (await AdminB.GetFromJsonAsync<List<IdView>>("/api/v1/tokens"))!.Select(t => t.Id).ToHashSet();
        found += ledger.Tokens.Count(t => tokens.Contains(t.Token));
        var lost = new List<string>();
        var missingBeats = await FaultLoad.MissingHeartbeatsAsync(ledger, AdminB, lost);
        var cutOff = ledger.Answers.Count(a => a.Status == Answer.NoAnswer);
        Report($"acknowledged: {ledger.AdminAcked} admin writes by A (found through B: {found}), {ledger.HeartbeatsAcked} heartbeats " +
               $"({beatsAtKill.Sum()} before the kill, by both instances; found: {ledger.HeartbeatsAcked - missingBeats}); {cutOff} requests cut off by the kill");
        Report($"A's agents heartbeating through B again (3 more each) {resumed.TotalSeconds:0.0} s after the kill");
        Assert.Equal(ledger.AdminAcked, found);
        Assert.True(missingBeats == 0, string.Join('\n', lost));
        var serverErrors = ledger.Answers.Where(a => a.IsServerError).ToList();
        Assert.True(serverErrors.Count == 0, "5xx answers under load:\n" + string.Join('\n', serverErrors.Take(20)));

        // The final admin change, through B: block agent 3. Every agent is pushed the new version over its socket to B
        // and fetches from B exactly the projected config: the other unblocked agents, and nothing for the blocked one.
        var blocked = agents[3];
        await AdminB.PostAsJsonAsync($"/api/v1/networks/{mesh}/peers/{blocked.PeerId}/block", new { reason = "faults test" })
            .ExpectAsync(HttpStatusCode.OK, "block agent3 through B");
        var changedAt = clock.Elapsed;
        var version = (await AdminB.GetFromJsonAsync<JsonElement>($"/api/v1/networks/{mesh}")).GetProperty("version").GetInt64()
            .ToString(System.Globalization.CultureInfo.InvariantCulture);
        var converged = new TimeSpan?[agents.Count];
        await Eventually.HoldsAsync(async () =>
        {
            for (var i = 0; i < agents.Count; i++)
            {
                if (converged[i] is not null || sockets[i].Heard(version) is null) continue;
                var (status, _, body) = await B.AgentConfigAsync(agents[i]);
                List<string> expected = agents[i] == blocked ? [] : agents.Where(a => a != agents[i] && a != blocked).Select(a => a.PublicKey).Order().ToList();
                if (status == HttpStatusCode.OK && body.GetProperty("version").GetString() == version
                    && body.GetProperty("peers").EnumerateArray().Select(p => p.GetProperty("publicKey").GetString()!).Order().SequenceEqual(expected))
                    converged[i] = clock.Elapsed;
            }
            return converged.All(c => c is not null);
        }, Deadline, $"every agent was pushed version {version} over its socket to B and fetched the projected config from B");
        Report($"all {agents.Count} agents converged on B's config version {version} {(converged.Max()!.Value - changedAt).TotalSeconds:0.00} s " +
               $"after the final change through B; {(converged.Max()!.Value - killedAt).TotalSeconds:0.0} s after the kill");

        foreach (var socket in sockets) await socket.DisposeAsync();
    }

    private static async Task<bool> Closes(PushListener socket)
    {
        try
        {
            await Eventually.HoldsAsync(() => Task.FromResult(socket.Closed), TimeSpan.FromSeconds(30), "the socket closes");
            return true;
        }
        catch (Xunit.Sdk.FailException) { return false; }
    }

    private sealed record IdView(Guid Id);
}

/// <summary>
/// PostgreSQL stopped and started again under load: the instance says it is not ready, refuses requests with
/// 503 problems (never a 500) while the database is gone, and afterwards has every write it acknowledged and
/// serves its agents the changes made since.
/// </summary>
[Trait("Category", "Faults")]
public sealed class DatabaseOutageFaultTests(OutageFixture fixture, ITestOutputHelper output) : IClassFixture<OutageFixture>, IAsyncLifetime
{
    private const int Agents = 3;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    private ServerNode A => fixture.A;
    private int _mark;

    public Task InitializeAsync()
    {
        _mark = A.Mark();
        foreach (var note in fixture.SetupNotes) output.WriteLine(note);
        return Task.CompletedTask;
    }

    /// <param name="mode"><c>fast</c>: <c>pg_ctl stop -m fast</c>, an operator's stop (sessions terminated with 57P01, a clean
    /// shutdown). <c>immediate</c>: <c>-m immediate</c>, SIGQUIT to the postmaster, as in a crash: connections reset, no
    /// checkpoint, crash recovery on the next start (refusing connections with 57P03 meanwhile).</param>
    [Theory]
    [InlineData("fast", 0)]
    [InlineData("immediate", 1)]
    public async Task stopping_postgresql_under_load_gives_503_problems_and_loses_no_acknowledged_write(string mode, int run)
    {
        var clock = Stopwatch.StartNew();
        using var admin = fixture.Admin();
        var mesh = await admin.CreateNetworkAsync($"outage-mesh-{mode}", $"10.83.{run}.0/24");
        var writes = await admin.CreateNetworkAsync($"outage-w-{mode}", $"10.84.{run}.0/24");
        var agents = new List<Agent>();
        for (var i = 0; i < Agents; i++) agents.Add(await admin.AddAndEnrollAsync(A, mesh, $"agent{i}"));
        string EndpointOf(int i) => $"198.18.{2 + run}.{10 + i}:51820";
        for (var i = 0; i < Agents; i++) await A.HeartbeatAsync(agents[i], 51820, EndpointOf(i));
        await Eventually.HoldsAsync(async () =>
        {
            foreach (var agent in agents)
                if ((await A.AgentConfigAsync(agent)).Body.GetProperty("peers").GetArrayLength() != Agents - 1) return false;
            return true;
        }, Deadline, "every agent lists the others directly");
        var mark = A.Mark();
        var sockets = new List<PushListener>();
        foreach (var agent in agents) sockets.Add(await PushListener.ConnectAsync(A, agent, clock));
        foreach (var agent in agents)
            await Eventually.HoldsAsync(() => Task.FromResult(A.LinesSince(mark).Any(l => l.Contains($"Agent for peer {agent.PeerId} connected", StringComparison.Ordinal))),
                Deadline, $"A registered the socket of peer {agent.PeerId}");

        // Load on A: peers, tokens, heartbeats (with config fetches); and /readyz and an admin read polled alongside.
        var ledger = new Ledger();
        using var stop = new CancellationTokenSource();
        var readiness = new List<(TimeSpan At, int Status, string? ContentType)>();
        var load = new List<Task>
        {
            FaultLoad.AddPeersAsync(ledger, () => A, writes, stop.Token),
            FaultLoad.IssueTokensAsync(ledger, () => A, stop.Token),
            PollAsync(),
        };
        load.AddRange(agents.Select((agent, i) => FaultLoad.BeatAsync(ledger, () => A, agent, EndpointOf(i), stop.Token)));
        async Task PollAsync()
        {
            using var anonymous = A.Client(null);
            using var reader = fixture.Admin();
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var response = await anonymous.GetAsync("/readyz");
                    lock (readiness) readiness.Add((clock.Elapsed, (int)response.StatusCode, response.Content.Headers.ContentType?.MediaType));
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { lock (readiness) readiness.Add((clock.Elapsed, Answer.NoAnswer, null)); }
                await FaultLoad.SendAsync(ledger, "list peers", () => reader.GetAsync($"/api/v1/networks/{writes}/peers"));
                await Task.Delay(100);
            }
        }
        (int Status, string? ContentType) Ready() { lock (readiness) return readiness.Count == 0 ? (0, null) : (readiness[^1].Status, readiness[^1].ContentType); }

        await Eventually.HoldsAsync(() => Task.FromResult(ledger.AdminAcked >= 30 && ledger.HeartbeatsAcked >= 60), Deadline, "load acknowledged before the outage");

        // The outage: the data dir and the port are kept.
        ledger.Phase = "outage";
        var stoppedAt = clock.Elapsed;
        await fixture.Postgres.StopServerAsync(immediate: mode == "immediate");
        var (notReady, _) = await Eventually.HoldsAsync(() => Task.FromResult(Ready() == (503, "application/problem+json")), Deadline, "/readyz answers a 503 problem");
        // Long enough that every kind of request met the outage several times.
        await Eventually.HoldsAsync(() => Task.FromResult(
                new[] { "add peer", "issue token", "heartbeat", "list peers" }.All(what => ledger.AnswersIn("outage", a => a.What == what && a.Status >= 500) >= 5)),
            Deadline, "five refusals of each kind of request during the outage");

        ledger.Phase = "recovery";
        var restartedAt = clock.Elapsed;
        await fixture.Postgres.RestartAsync();
        var (ready, _) = await Eventually.HoldsAsync(() => Task.FromResult(Ready().Status == 200), Deadline, "/readyz answers 200 again");
        ledger.Phase = "after";
        var afterAt = clock.Elapsed;
        await Eventually.HoldsAsync(() => Task.FromResult(ledger.AckedIn("after") >= 20 && ledger.Heartbeats.Values.All(b => b.Count > 0)),
            Deadline, "20 admin writes acknowledged after the recovery");
        var firstWrite = clock.Elapsed - afterAt;
        stop.Cancel();
        await Task.WhenAll(load).WaitAsync(Deadline);

        var outage = ledger.Answers.Where(a => a.Phase == "outage").ToList();
        output.WriteLine($"database stopped ({mode}) at {stoppedAt.TotalSeconds:0.0} s: /readyz 503 after {notReady.TotalSeconds:0.00} s; restarted after " +
                         $"{(restartedAt - stoppedAt).TotalSeconds:0.0} s of outage; /readyz 200 again {ready.TotalSeconds:0.00} s after the restart " +
                         $"(pg_ctl start -w included), writes acknowledged again within {firstWrite.TotalSeconds:0.00} s of that");
        foreach (var phase in new[] { "before", "outage", "recovery", "after" }) output.WriteLine($"answers {phase}: {ledger.Summary(phase)}");

        // Never a 500: during the outage every failure is a 503 problem with Retry-After.
        var wrong = ledger.Answers.Where(a => a.IsServerError && !(a.IsProblem503 && a.RetryAfter is not null)).ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} 5xx answers that are not 503 problems with Retry-After:\n" + string.Join('\n', wrong.Take(10)));
        var unexpected = outage.Where(a => a.Status != 503 && a.Status is < 200 or >= 300).ToList();
        Assert.True(unexpected.Count == 0, $"{unexpected.Count} answers during the outage that are neither 2xx nor 503:\n" + string.Join('\n', unexpected.Take(10)));
        Assert.DoesNotContain(ledger.Answers, a => a.Status == 500);

        // Nothing acknowledged is lost.
        var listed = (await admin.GetFromJsonAsync<List<IdView>>($"/api/v1/networks/{writes}/peers"))!.Select(p => p.Id).ToHashSet();
        var tokens = (await admin.GetFromJsonAsync<List<IdView>>("/api/v1/tokens"))!.Select(t => t.Id).ToHashSet();
        var found = ledger.Peers.Count(p => listed.Contains(p.Peer)) + ledger.Tokens.Count(t => tokens.Contains(t.Token));
        var lost = new List<string>();
        var missingBeats = await FaultLoad.MissingHeartbeatsAsync(ledger, admin, lost);
        output.WriteLine($"acknowledged: {ledger.AdminAcked} admin writes (found {found}; {ledger.AckedIn("outage")} acknowledged during the outage), " +
                         $"{ledger.HeartbeatsAcked} heartbeats (found {ledger.HeartbeatsAcked - missingBeats}); " +
                         $"{outage.Count(a => a.IsProblem503)} 503 problems and {ledger.Answers.Count(a => a.Status == 500)} 500s during the outage");
        Assert.Equal(ledger.AdminAcked, found);
        Assert.True(missingBeats == 0, string.Join('\n', lost));

        // Agents re-sync: a change after the recovery reaches them by push and by fetch.
        var blocked = agents[2];
        await admin.PostAsJsonAsync($"/api/v1/networks/{mesh}/peers/{blocked.PeerId}/block", new { reason = "outage test" })
            .ExpectAsync(HttpStatusCode.OK, "block agent2 after the recovery");
        var changedAt = clock.Elapsed;
        var version = (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/networks/{mesh}")).GetProperty("version").GetInt64()
            .ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (synced, _) = await Eventually.HoldsAsync(async () =>
        {
            for (var i = 0; i < Agents; i++)
            {
                var (status, _, body) = await A.AgentConfigAsync(agents[i]);
                List<string> expected = agents[i] == blocked ? [] : agents.Where(a => a != agents[i] && a != blocked).Select(a => a.PublicKey).Order().ToList();
                if (status != HttpStatusCode.OK || body.GetProperty("version").GetString() != version
                    || !body.GetProperty("peers").EnumerateArray().Select(p => p.GetProperty("publicKey").GetString()!).Order().SequenceEqual(expected))
                    return false;
            }
            return true;
        }, Deadline, $"every agent fetches config version {version}");
        // The sockets opened before the outage stayed open, and the change feed is back: each is pushed the version too.
        await Eventually.HoldsAsync(() => Task.FromResult(sockets.All(s => s.Heard(version) is not null)), Deadline,
            $"every socket opened before the outage is pushed version {version}");
        var pushed = sockets.Count(s => s.Heard(version) is not null);
        output.WriteLine($"after the recovery, every agent fetched the new config version {version} within {synced.TotalSeconds:0.00} s of the change; " +
                         $"{pushed} of {Agents} sockets opened before the outage were pushed it (closed by then: {sockets.Count(s => s.Closed)})");
        foreach (var socket in sockets) await socket.DisposeAsync();
    }

    public Task DisposeAsync()
    {
        var lines = A.LinesSince(_mark);
        output.WriteLine($"---- A during this test ({lines.Count} lines; {lines.Count(l => l.StartsWith("fail:", StringComparison.Ordinal))} fail: lines) ----");
        foreach (var line in lines.Where(l => !l.StartsWith("      at ", StringComparison.Ordinal)).TakeLast(60)) output.WriteLine(line);
        return Task.CompletedTask;
    }

    private sealed record IdView(Guid Id);
}
