using System.Text;
using Wirety.Events;
using Wirety.Events.Agent;
using Wirety.Events.Networks;
using Wirety.Events.Peers;
using Wirety.Projections.Configs;
using Wirety.Projections.History;
using Wirety.Projections.Networks;
using Wirety.Server.Agents;
using Wirety.Server.Auth;
using Wirety.Server.Networks;
using static Wirety.Tests.Unit.Decided;

namespace Wirety.Tests.Unit.Networks;

/// <summary>Key rotation (issue 15): the fold, the rotate-key decision, its config impact and the per-network interval.</summary>
public sealed class KeyRotationTests
{
    private static readonly Guid Jump = TestNetwork.PeerId(1), A = TestNetwork.PeerId(2), B = TestNetwork.PeerId(3);
    private static readonly Guid SessionA = Guid.Parse("00000000-0000-0000-0000-00000000beef");
    private static readonly AgentIdentity AgentA = new(SessionA, A, TestNetwork.NetworkId, new Actor(SessionA, "agent:a"));

    /// <summary>A jump and two meshed dynamic peers; a holds <see cref="SessionA"/>.</summary>
    private static Network Mesh() => TestNetwork.Create()
        .AddPeer(Jump, "hub", PeerKind.Jump, TestNetwork.Key(1), endpoint: "198.51.100.1:51820", listenPort: 51820)
        .AddPeer(A, "a", PeerKind.Dynamic, TestNetwork.Key(2))
        .AddPeer(B, "b", PeerKind.Dynamic, TestNetwork.Key(3))
        .WithPeer(A, p => p with { SessionId = SessionA, ObservedEndpoint = "198.51.100.2:51820" })
        .WithPeer(B, p => p with { ObservedEndpoint = "198.51.100.3:51820" });

    private static PeerKeyRotated Rotated(string key) =>
        new(TestNetwork.NetworkId, A, TestNetwork.Key(2), key, SessionA, AgentA.Actor, Now);

    [Fact]
    public void a_rotation_changes_the_key_and_nothing_else()
    {
        var before = Mesh();
        var after = NetworkEvolution.Evolve(before, Rotated(TestNetwork.Key(9)))!;
        Assert.Equal(before.FindPeer(A)! with { PublicKey = TestNetwork.Key(9), UpdatedAt = Now }, after.FindPeer(A));
        Assert.Equal(before.FindPeer(B), after.FindPeer(B));
        Assert.True(NetworkEvolution.Handles(Rotated(TestNetwork.Key(9))));
        Assert.Contains(typeof(PeerKeyRotated), NetworkEvolution.EventTypes);
        Assert.Contains(typeof(KeyRotationIntervalChanged), NetworkEvolution.EventTypes);
    }

    [Fact]
    public void the_agent_rotates_to_a_new_key_and_a_repeat_of_the_same_key_is_a_no_op()
    {
        var (rotated, problem) = RotateAgentKey.Decide(Mesh(), AgentA, TestNetwork.Key(9), Now);
        Accepted(problem);
        Assert.Equal(Rotated(TestNetwork.Key(9)), rotated);

        var (again, none) = RotateAgentKey.Decide(NetworkEvolution.Evolve(Mesh(), rotated!), AgentA, TestNetwork.Key(9), Now);
        Accepted(none);
        Assert.Null(again);
    }

    [Fact]
    public void a_blocked_peer_a_stale_session_or_a_deleted_peer_cannot_rotate()
    {
        Refused(RotateAgentKey.Decide(Mesh().Block(A), AgentA, TestNetwork.Key(9), Now).Problem, 409);
        Refused(RotateAgentKey.Decide(Mesh().WithPeer(A, p => p with { SessionId = Guid.NewGuid() }), AgentA, TestNetwork.Key(9), Now).Problem, 401);
        Refused(RotateAgentKey.Decide(Mesh().Remove(A), AgentA, TestNetwork.Key(9), Now).Problem, 404);
        Refused(RotateAgentKey.Decide(null, AgentA, TestNetwork.Key(9), Now).Problem, 404);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not a key")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")] // all zero
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")] // 35 bytes
    public void a_new_key_must_be_a_usable_wireguard_key(string? key)
    {
        var errors = RotateAgentKey.Problems(new RotateKeyRequest(key));
        Assert.True(errors.Any);
        Assert.Equal(["publicKey"], Fields(errors.ToProblem()));
    }

    [Fact]
    public void rotations_spend_a_rate_limit_budget_per_session_credential()
    {
        var http = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        http.Request.Path = "/api/v1/agent/rotate-key";
        http.Request.Headers.Authorization = "Bearer wirety_session_x";
        var partition = Wirety.Server.Limits.RequestLimits.Partition(http, new Wirety.Server.Limits.LimitsOptions());
        Assert.StartsWith("rotate-key:token:", partition.PartitionKey);
    }

    [Fact]
    public void every_config_that_changes_with_a_rotation_is_in_its_impact()
    {
        var before = Mesh();
        var after = NetworkEvolution.Evolve(before, Rotated(TestNetwork.Key(9)))!;
        var ids = after.Peers.Select(p => p.Id).ToList();
        var was = ConfigBuilder.Fingerprints(before, ids).ToDictionary();
        var changed = ConfigBuilder.Fingerprints(after, ids).Where(f => was[f.PeerId] != f.Fingerprint).Select(f => f.PeerId).ToHashSet();
        // The jump and b list a with its key; a's own config does not show its own key.
        Assert.Equal([Jump, B], changed.Order());
        var affected = ConfigImpact.AffectedPeers(before, after, [A], networkSettingsChanged: false);
        Assert.Superset(changed, affected.ToHashSet());
        Assert.Contains(A, affected);

        var entry = ConfigBuilder.Build(after, B).Peers.Single(p => p.PeerId == A);
        Assert.Equal(TestNetwork.Key(9), entry.PublicKey);
        Assert.DoesNotContain(ConfigBuilder.Build(after, Jump).Peers, p => p.PublicKey == TestNetwork.Key(2));
    }

    [Fact]
    public void the_interval_is_set_and_turned_off_by_an_event_with_its_actor_and_a_repeat_is_a_no_op()
    {
        var net = Mesh();
        Accepted(SetKeyRotationInterval.Validate(new KeyRotationRequest(90), net, net.Id));
        var (result, events) = SetKeyRotationInterval.Put(new KeyRotationRequest(90), net, Admin, Clock);
        var changed = Assert.IsType<KeyRotationIntervalChanged>(Assert.Single(events));
        Assert.Equal(new KeyRotationIntervalChanged(net.Id, 90, AdminActor, Now), changed);
        Assert.Equal(new KeyRotationSetting(90), Body<KeyRotationSetting>(result));

        var after = NetworkEvolution.Evolve(net, changed)!;
        Assert.Equal(90, after.KeyRotationDays);
        Assert.Equal(90, NetworkView.Of(after).KeyRotationDays);
        Assert.Empty(SetKeyRotationInterval.Put(new KeyRotationRequest(90), after, Admin, Clock).Item2);

        var off = Assert.IsType<KeyRotationIntervalChanged>(Assert.Single(SetKeyRotationInterval.Put(new KeyRotationRequest(null), after, Admin, Clock).Item2));
        Assert.Null(NetworkEvolution.Evolve(after, off)!.KeyRotationDays);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(3651)]
    [InlineData(int.MaxValue)]
    public void an_interval_outside_one_to_3650_days_is_refused(int days)
    {
        var problem = Refused(SetKeyRotationInterval.Validate(new KeyRotationRequest(days), Mesh(), TestNetwork.NetworkId), 400);
        Assert.Equal(["intervalDays"], Fields(problem));
        Refused(SetKeyRotationInterval.Validate(null, Mesh(), TestNetwork.NetworkId), 400);
        Refused(SetKeyRotationInterval.Validate(new KeyRotationRequest(1), null, TestNetwork.NetworkId), 404);
    }

    [Fact]
    public void agents_get_the_interval_in_their_config_and_its_change_changes_every_fingerprint()
    {
        var net = Mesh();
        var ids = net.Peers.Select(p => p.Id).ToList();
        var rotating = NetworkEvolution.Evolve(net, new KeyRotationIntervalChanged(net.Id, 30, AdminActor, Now))!;
        var was = ConfigBuilder.Fingerprints(net, ids).ToDictionary();
        Assert.All(ConfigBuilder.Fingerprints(rotating, ids), f => Assert.NotEqual(was[f.PeerId], f.Fingerprint));
        // Fingerprinting the built model (the path networks with routes take) agrees with the summed path.
        Assert.Equal(ConfigBuilder.Fingerprints(rotating, ids).Single(f => f.PeerId == B).Fingerprint,
            ConfigFingerprint.Of(ConfigBuilder.Build(rotating, B), HostRules.For(rotating, B)));

        string AgentJson(Network network)
        {
            var stamps = ids.ToDictionary(id => id, id => new PeerConfigStamp(7, "f"));
            var source = new ConfigSource(network.Id, 7, network, stamps);
            return Encoding.UTF8.GetString(new ConfigRenderer(source).Render(B, ConfigFormat.Agent)!.Body);
        }
        Assert.Contains("\"keyRotationDays\":30", AgentJson(rotating));
        // Off: the field is left out, so configs keep the bytes and ETags they had before the setting existed.
        Assert.DoesNotContain("keyRotationDays", AgentJson(net));
        Assert.Equal(30, System.Text.Json.JsonSerializer.Deserialize(AgentJson(rotating), AgentProtocolJson.Default.AgentConfig)!.KeyRotationDays);
    }

    [Fact]
    public void the_timeline_tells_who_rotated_and_who_set_the_interval()
    {
        object[] events =
        [
            new NetworkCreated(TestNetwork.NetworkId, "office", "10.10.0.0/24", null, [], null, AdminActor, Now),
            new KeyRotationIntervalChanged(TestNetwork.NetworkId, 90, AdminActor, Now),
            new KeyRotationIntervalChanged(TestNetwork.NetworkId, 1, AdminActor, Now),
            new KeyRotationIntervalChanged(TestNetwork.NetworkId, null, AdminActor, Now),
            Rotated(TestNetwork.Key(9)),
        ];
        var timeline = Timeline.Build(events.Select((e, i) => new RecordedEvent(i + 1, TestNetwork.NetworkId, i + 1, e, Now)));
        Assert.Equal(
        [
            "ops-token set agents in network office to rotate their keys every 90 days",
            "ops-token set agents in network office to rotate their keys every 1 day",
            "ops-token turned scheduled key rotation off for network office",
            $"peer {A} rotated its key to {TestNetwork.Key(9)} (was {TestNetwork.Key(2)})",
        ], timeline.Skip(1).Select(e => e.Summary));
        Assert.Equal(("peer", A), (timeline[4].Subject.Kind, timeline[4].Subject.Id));
        Assert.Contains(typeof(PeerKeyRotated), EventCatalog.Types);
        Assert.Contains(typeof(KeyRotationIntervalChanged), EventCatalog.Types);
    }
}
