using Microsoft.AspNetCore.Authentication;
using Wirety.Server.Auth.Oidc;

namespace Wirety.Server.Auth.Sessions;

public static class SessionsSetup
{
    /// <summary>The UI session services and options (<c>Wirety:Sessions</c>); the schemes go with <see cref="AddUiSessionSchemes"/>.</summary>
    public static IServiceCollection AddUiSessions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SessionOptions>().Bind(configuration.GetSection(SessionOptions.Section))
            .Validate(o => o.Lifetime > TimeSpan.Zero && o.IdleTimeout > TimeSpan.Zero && o.SweepInterval > TimeSpan.Zero,
                "Wirety:Sessions: Lifetime, IdleTimeout and SweepInterval must be longer than zero.")
            .ValidateOnStart();
        services.AddSingleton<UiSessions>();
        services.AddHostedService<SessionSweeper>();
        services.AddHostedService<SessionLiveChannels>();
        services.AddOidcOptions(configuration);
        return services;
    }

    /// <summary>The session cookie scheme and the <see cref="WiretyIdentity"/> policy scheme in front of it.</summary>
    public static AuthenticationBuilder AddUiSessionSchemes(this AuthenticationBuilder auth) =>
        auth.AddScheme<AuthenticationSchemeOptions, UiSessionAuthentication>(UiSessionAuthentication.SchemeName, null)
            .AddWiretyIdentity();
}
