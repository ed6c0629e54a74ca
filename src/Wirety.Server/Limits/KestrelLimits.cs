namespace Wirety.Server.Limits;

/// <summary>
/// Kestrel's own connection limits and timeouts, from <see cref="LimitsOptions"/> (<c>Wirety__Limits__MaxConnections</c>,
/// <c>MaxUpgradedConnections</c>, <c>RequestHeadersTimeout</c>, <c>KeepAliveTimeout</c>). They apply to the real
/// listener only (not to an in-memory test host). Beyond <c>MaxConnections</c> Kestrel closes a new connection at
/// once; beyond <c>MaxUpgradedConnections</c> a WebSocket upgrade is answered 503 (see
/// <see cref="Sockets.WebSocketEndpoint"/>) while plain requests are still served.
/// </summary>
public static class KestrelLimits
{
    public static WebApplicationBuilder UseWiretyKestrelLimits(this WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var limits = context.Configuration.GetSection(LimitsOptions.Section).Get<LimitsOptions>() ?? new LimitsOptions();
            // Invalid values are refused at start by the LimitsOptions validation; Kestrel would throw on them first.
            if (limits.MaxConnections > 0) kestrel.Limits.MaxConcurrentConnections = limits.MaxConnections;
            if (limits.MaxUpgradedConnections > 0) kestrel.Limits.MaxConcurrentUpgradedConnections = limits.MaxUpgradedConnections;
            if (limits.RequestHeadersTimeout > TimeSpan.Zero) kestrel.Limits.RequestHeadersTimeout = limits.RequestHeadersTimeout;
            if (limits.KeepAliveTimeout > TimeSpan.Zero) kestrel.Limits.KeepAliveTimeout = limits.KeepAliveTimeout;
        });
        return builder;
    }
}
