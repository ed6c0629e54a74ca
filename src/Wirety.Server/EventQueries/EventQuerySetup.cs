namespace Wirety.Server.EventQueries;

public static class EventQuerySetup
{
    /// <summary>Registered after Marten, so the indexes and views are created on Marten's tables.</summary>
    public static IServiceCollection AddEventQueries(this IServiceCollection services)
    {
        services.AddSingleton<EventTypeNames>();
        services.AddSingleton<SafeSequence>();
        services.AddSingleton<ReadBounds.ReadSlots>(); // exports here, replays in History/
        services.AddHostedService<EventQuerySchema>();
        return services;
    }
}
