using System.Net;
using Wirety.Agent.Running;
using Wirety.Agent.Server;
using Wirety.Agent.State;
using Wirety.Agent.WireGuard;
using Wirety.Events.Agent;
using Wirety.Tests.Agent.Fakes;
using static Wirety.Tests.Agent.TestData;

namespace Wirety.Tests.Agent.Running;

/// <summary>
/// Fail-static and revocation as decisions: what the agent does with each kind of server answer,
/// and what that means for a live (in-memory) interface.
/// </summary>
public class FailStaticTests
{
    private const string If = "wirety0";

    [Fact]
    public void when_the_server_is_unreachable_the_last_applied_config_is_kept()
    {
        var current = Config("7");

        var decision = RunDecisions.OnConfigFetch(ServerOutcome<AgentConfig>.Unreachable("connection refused"), current, "\"e7\"");

        Assert.Equal(ConfigAction.KeepCurrent, decision.Action);
        Assert.Same(current, decision.Config);
        Assert.Equal("\"e7\"", decision.ETag);
        Assert.Contains("keeping the last applied config (version 7)", decision.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void server_errors_and_refusals_also_keep_the_last_config()
    {
        var current = Config("7");

        foreach (var outcome in new[]
                 {
                     ServerOutcome<AgentConfig>.Unreachable("server error 503", HttpStatusCode.ServiceUnavailable),
                     ServerOutcome<AgentConfig>.Refused(HttpStatusCode.NotFound, "no such route"),
                     ServerOutcome<AgentConfig>.NotModified("\"e7\""),
                 })
        {
            var decision = RunDecisions.OnConfigFetch(outcome, current, "\"e7\"");
            Assert.Equal(ConfigAction.KeepCurrent, decision.Action);
            Assert.Same(current, decision.Config);
        }
    }

    [Fact]
    public void a_401_on_config_or_heartbeat_stops_the_agent_with_exit_code_3()
    {
        var decision = RunDecisions.OnConfigFetch(ServerOutcome<AgentConfig>.Unauthorized("session revoked"), Config("7"), null);

        Assert.Equal(ConfigAction.Stop, decision.Action);
        Assert.Equal("this peer's session was revoked (peer deleted?); re-enroll", decision.Problem);
        Assert.True(RunDecisions.HeartbeatStops(OutcomeKind.Unauthorized));
        Assert.Equal(3, RunDecisions.RevokedExitCode);
    }

    [Fact]
    public void an_outage_never_stops_heartbeats()
    {
        Assert.False(RunDecisions.HeartbeatStops(OutcomeKind.Unreachable));
        Assert.False(RunDecisions.HeartbeatStops(OutcomeKind.Refused));
        Assert.False(RunDecisions.HeartbeatStops(OutcomeKind.Ok));
    }

    [Fact]
    public void a_new_config_is_applied_with_its_etag()
    {
        var next = Config("8");

        var decision = RunDecisions.OnConfigFetch(ServerOutcome<AgentConfig>.Ok(next, "\"e8\""), Config("7"), "\"e7\"");

        Assert.Equal(ConfigAction.Apply, decision.Action);
        Assert.Same(next, decision.Config);
        Assert.Equal("\"e8\"", decision.ETag);
    }

    [Fact]
    public void at_start_the_last_known_good_config_is_applied_before_the_server_is_asked()
    {
        var saved = new SavedConfig(Config("7"), "\"e7\"", DateTimeOffset.UnixEpoch);

        Assert.Same(saved.Config, RunDecisions.StartupConfig(saved));
        Assert.Null(RunDecisions.StartupConfig(null));
    }

    [Fact]
    public void a_push_for_the_running_version_needs_no_fetch()
    {
        Assert.False(RunDecisions.PushNeedsFetch("7", Config("7")));
        Assert.True(RunDecisions.PushNeedsFetch("8", Config("7")));
        Assert.True(RunDecisions.PushNeedsFetch(null, Config("7")));
        Assert.True(RunDecisions.PushNeedsFetch("8", null));
    }

    [Fact]
    public async Task starting_without_a_server_brings_the_tunnel_up_from_the_saved_config_and_outages_keep_it()
    {
        var dir = Directory.CreateTempSubdirectory("wirety-agent-test-");
        try
        {
            var store = new StateStore(dir.FullName);
            store.SaveConfig(new SavedConfig(Config("7"), "\"e7\"", DateTimeOffset.UnixEpoch));
            var wg = new InMemoryWireGuard();
            var pass = new InterfacePass(wg, new RecordingForwarding(), new RecordingFilter(), If, Self, Log());

            // Start: what the run loop does before its first fetch.
            var startup = RunDecisions.StartupConfig(store.LoadConfig());
            Assert.NotNull(startup);
            pass.Seed(startup);
            Assert.True((await pass.ApplyAsync(startup, default)).Succeeded);
            var up = await wg.ReadAsync(If, default);

            // The fetch fails, repeatedly: every pass keeps the same config and the interface stays as it was.
            AgentConfig current = startup;
            for (var i = 0; i < 3; i++)
            {
                var decision = RunDecisions.OnConfigFetch(ServerOutcome<AgentConfig>.Unreachable("timeout"), current, "\"e7\"");
                current = decision.Config!;
                var result = await pass.ApplyAsync(current, default);
                Assert.Equal(0, result.Changes);
            }

            Assert.NotNull(up);
            Assert.True(up.IsUp);
            Assert.Equal(3, up.Device.Peers.Count);
            Assert.Equal(Describe(up), Describe(await wg.ReadAsync(If, default)));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
