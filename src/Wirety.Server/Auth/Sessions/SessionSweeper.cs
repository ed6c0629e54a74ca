using Microsoft.Extensions.Options;

namespace Wirety.Server.Auth.Sessions;

/// <summary>
/// Deletes lapsed UI session rows (past their absolute lifetime or idle timeout) at start and every
/// <see cref="SessionOptions.SweepInterval"/>. A lapsed session is refused whether or not its row is gone; this
/// only keeps the table small. Each instance sweeps; the deletes are idempotent.
/// </summary>
public sealed class SessionSweeper(UiSessions sessions, IOptions<SessionOptions> options, TimeProvider clock, ILogger<SessionSweeper> log)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield(); // not on the host's start path
        using var timer = new PeriodicTimer(options.Value.SweepInterval, clock);
        try
        {
            do
            {
                try
                {
                    if (await sessions.SweepAsync(stoppingToken) is > 0 and var swept) log.LogInformation("Deleted {Count} lapsed UI session(s)", swept);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogWarning(e, "The UI session sweep failed; it runs again in {Interval}", options.Value.SweepInterval);
                }
            } while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) { } // stopping
    }
}
