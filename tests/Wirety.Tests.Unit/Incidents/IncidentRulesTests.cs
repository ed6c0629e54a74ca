using Wirety.Events.Incidents;
using Wirety.Projections.Incidents;
using Wirety.Projections.Networks;
using Wirety.Server.Incidents;

namespace Wirety.Tests.Unit.Incidents;

public sealed class IncidentRulesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private static readonly Guid Session = Guid.Parse("00000000-0000-0000-0000-0000000000a1");
    private static readonly TimeSpan FiveMinutes = TimeSpan.FromMinutes(5);

    /// <summary>A sighting <paramref name="minutes"/> after T0 from <paramref name="source"/> (endpoint = source:port).</summary>
    private static Sighting At(double minutes, string source, int port = 51820, Guid? session = null) =>
        new(Guid.NewGuid(), T0.AddMinutes(minutes), session ?? Session, source, $"{source}:{port}", source);

    private static DateTimeOffset Now(double minutes) => T0.AddMinutes(minutes);

    [Fact]
    public void moving_once_is_not_a_session_conflict()
    {
        Sighting[] s = [At(0, "192.0.2.1"), At(1, "192.0.2.1"), At(2, "198.51.100.7"), At(3, "198.51.100.7")];
        Assert.Null(IncidentRules.SessionConflict(s, FiveMinutes, Now(3)));
    }

    [Fact]
    public void heartbeating_from_two_places_at_once_is_a_session_conflict_with_the_three_heartbeats_as_evidence()
    {
        Sighting[] s = [At(0, "192.0.2.1"), At(0.5, "198.51.100.7"), At(1, "192.0.2.1")];
        var finding = IncidentRules.SessionConflict(s, FiveMinutes, Now(1));
        Assert.NotNull(finding);
        Assert.Equal(IncidentType.SessionConflict, finding.Type);
        Assert.Equal(s.Select(x => x.HeartbeatId), finding.Evidence.Select(x => x.HeartbeatId));
    }

    [Fact]
    public void alternation_older_than_the_window_is_no_session_conflict()
    {
        Sighting[] s = [At(0, "192.0.2.1"), At(0.5, "198.51.100.7"), At(1, "192.0.2.1")];
        Assert.Null(IncidentRules.SessionConflict(s, FiveMinutes, Now(5.25))); // the first heartbeat left the window
        Assert.NotNull(IncidentRules.SessionConflict(s, FiveMinutes, Now(5)));  // exactly at the window's edge it counts
    }

    [Fact]
    public void two_sessions_within_the_window_are_a_session_conflict()
    {
        var other = Guid.Parse("00000000-0000-0000-0000-0000000000b2");
        Sighting[] s = [At(0, "192.0.2.1"), At(1, "192.0.2.1", session: other)];
        Assert.Equal(2, IncidentRules.SessionConflict(s, FiveMinutes, Now(1))!.Evidence.Count);
        Assert.Null(IncidentRules.SessionConflict(s, FiveMinutes, Now(6.5)));
    }

    [Theory]
    [InlineData(1, false)] // just below the default of 2 flips
    [InlineData(2, true)]  // at
    [InlineData(3, true)]  // above
    public void shared_config_fires_at_the_flip_threshold(int flips, bool fires)
    {
        var sources = new[] { "192.0.2.1", "198.51.100.7" };
        var s = Enumerable.Range(0, flips + 1).Select(i => At(i * 0.5, sources[i % 2])).ToList();
        var finding = IncidentRules.SharedConfig(s, 2, FiveMinutes, Now(flips * 0.5));
        Assert.Equal(fires, finding is not null);
        if (fires) Assert.Equal(IncidentType.SharedConfig, finding!.Type);
    }

    [Fact]
    public void a_port_only_change_is_nat_rebinding_not_a_flip()
    {
        Sighting[] s = [At(0, "192.0.2.1", 40000), At(1, "192.0.2.1", 40001), At(2, "192.0.2.1", 40002), At(3, "192.0.2.1", 40003)];
        Assert.Null(IncidentRules.SharedConfig(s, 2, FiveMinutes, Now(3)));
        Assert.Null(IncidentRules.SuspiciousActivity(s, 1, Now(3)));
        Assert.Null(IncidentRules.SessionConflict(s, FiveMinutes, Now(3)));
    }

    [Theory]
    [InlineData(9, false)]
    [InlineData(10, false)] // the limit itself is allowed
    [InlineData(11, true)]  // more than the limit
    public void suspicious_activity_fires_above_the_daily_limit(int changes, bool fires)
    {
        // One change an hour: never two flips in five minutes, so only the daily rule can fire.
        var s = Enumerable.Range(0, changes + 1).Select(i => At(i * 60, $"203.0.113.{i + 1}")).ToList();
        Assert.Equal(fires, IncidentRules.SuspiciousActivity(s, 10, Now(changes * 60)) is not null);
        Assert.Null(IncidentRules.SharedConfig(s, 2, FiveMinutes, Now(changes * 60)));
    }

    [Fact]
    public void changes_older_than_a_day_do_not_count()
    {
        var s = Enumerable.Range(0, 12).Select(i => At(i * 60, $"203.0.113.{i + 1}")).ToList();
        Assert.NotNull(IncidentRules.SuspiciousActivity(s, 10, Now(11 * 60)));
        // 25 h in, the first sighting (and with it the first change) is more than a day old.
        Assert.Null(IncidentRules.SuspiciousActivity(s, 10, Now(25 * 60)));
    }

    [Fact]
    public void evaluate_respects_enabled_and_prefers_session_conflict()
    {
        Sighting[] s = [At(0, "192.0.2.1"), At(0.5, "198.51.100.7"), At(1, "192.0.2.1")];
        Assert.Equal(IncidentType.SessionConflict, IncidentRules.Evaluate(s, NetworkSecurity.Default, Now(1))!.Type);
        Assert.Null(IncidentRules.Evaluate(s, NetworkSecurity.Default with { Enabled = false }, Now(1)));
    }

    [Fact]
    public void sightings_keep_one_day_in_time_order()
    {
        var sightings = new PeerSightings(Guid.NewGuid(), Guid.NewGuid(), []);
        sightings = sightings.Add(At(0, "192.0.2.1")).Add(At(30 * 60, "192.0.2.1")).Add(At(10, "192.0.2.2"));
        Assert.Equal([T0.AddMinutes(30 * 60)], sightings.Entries.Select(e => e.At));
    }
}
