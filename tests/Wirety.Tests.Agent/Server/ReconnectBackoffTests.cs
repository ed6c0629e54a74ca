using System.Net.WebSockets;
using Wirety.Agent.Server;

namespace Wirety.Tests.Agent.Server;

/// <summary>The WebSocket reconnect policy, run on a clock whose timers fire at once.</summary>
public class ReconnectBackoffTests
{
    private static async Task<List<TimeSpan>> DelaysAsync(int failures, CancellationToken ct = default)
    {
        var delays = new List<TimeSpan>();
        var pipeline = ConfigChangeListener.ReconnectPipeline(new InstantTimers(), (_, delay) => delays.Add(delay), ct);
        var attempts = 0;
        await pipeline.ExecuteAsync(_ =>
        {
            if (++attempts <= failures) throw new WebSocketException("connection refused");
            return ValueTask.CompletedTask;
        }, ct);
        return delays;
    }

    [Fact]
    public async Task reconnects_back_off_exponentially_with_jitter_up_to_30_seconds()
    {
        var delays = await DelaysAsync(40);

        Assert.Equal(40, delays.Count);
        Assert.All(delays, d => Assert.InRange(d, TimeSpan.Zero, ConfigChangeListener.MaxBackoff));
        Assert.True(delays.Take(3).Average(d => d.TotalSeconds) < 5, "the first retries come quickly");
        Assert.True(delays.Skip(20).Average(d => d.TotalSeconds) > 15, "later retries are spread towards the cap");
        Assert.True(delays.Skip(20).Distinct().Count() > 10, "delays are jittered, not in lockstep");
    }

    [Theory]
    [InlineData(0, 0.5, 1)]
    [InlineData(1, 1, 2)]
    [InlineData(3, 4, 8)]
    [InlineData(5, 15, 30)]
    [InlineData(500, 15, 30)]
    public void each_retry_waits_between_half_and_all_of_its_exponential_step(int attempt, double min, double max)
    {
        Assert.Equal(TimeSpan.FromSeconds(min), ConfigChangeListener.BackoffDelay(attempt, 0));
        Assert.True(ConfigChangeListener.BackoffDelay(attempt, 0.999) <= TimeSpan.FromSeconds(max));
    }

    [Fact]
    public async Task a_revoked_session_is_not_retried()
    {
        var pipeline = ConfigChangeListener.ReconnectPipeline(new InstantTimers(), (_, _) => { }, default);
        var attempts = 0;

        await Assert.ThrowsAsync<SessionRevokedException>(async () => await pipeline.ExecuteAsync(_ =>
        {
            attempts++;
            throw new SessionRevokedException("websocket");
        }));

        Assert.Equal(1, attempts);
    }

    /// <summary>A clock whose timers fire immediately, so retries run without waiting.</summary>
    private sealed class InstantTimers : TimeProvider
    {
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            if (dueTime != Timeout.InfiniteTimeSpan) ThreadPool.QueueUserWorkItem(_ => callback(state));
            return new NoTimer();
        }

        private sealed class NoTimer : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;
            public void Dispose() { }
            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
