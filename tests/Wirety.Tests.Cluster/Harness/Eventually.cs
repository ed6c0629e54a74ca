using System.Diagnostics;

namespace Wirety.Tests.Cluster.Harness;

public static class Eventually
{
    /// <summary>Polls an observable condition until it holds or the deadline passes; returns how long it took and how many checks.</summary>
    public static async Task<(TimeSpan Elapsed, int Checks)> HoldsAsync(Func<Task<bool>> condition, TimeSpan deadline, string what)
    {
        var clock = Stopwatch.StartNew();
        var checks = 0;
        while (true)
        {
            checks++;
            if (await condition()) return (clock.Elapsed, checks);
            if (clock.Elapsed > deadline) Assert.Fail($"Timed out after {deadline.TotalSeconds:0.#} s ({checks} checks) waiting until {what}");
            await Task.Delay(10);
        }
    }
}
