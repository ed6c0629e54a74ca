namespace Wirety.Events.Networks;

/// <summary>A network's incident-detection thresholds, as they are after the change.</summary>
public sealed record NetworkSecurityChanged(
    Guid NetworkId, bool Enabled, TimeSpan SessionConflictWindow, int SharedConfigFlips, TimeSpan SharedConfigWindow,
    int MaxEndpointChangesPerDay, Actor Actor, DateTimeOffset At);
