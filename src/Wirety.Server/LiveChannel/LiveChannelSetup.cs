using Microsoft.AspNetCore.Authorization;
using Wirety.Events.Tokens;
using Wirety.Server.Auth;
using Wirety.Server.Auth.Sessions;

namespace Wirety.Server.LiveChannel;

public static class LiveChannelSetup
{
    public static IServiceCollection AddLiveChannel(this IServiceCollection services, IConfiguration config)
    {
        services.AddSingleton(LiveChannelOptions.From(config));
        services.AddSingleton<LiveHub>();
        services.AddHostedService(sp => sp.GetRequiredService<LiveHub>());
        services.AddSingleton<PeerPresence>();
        services.AddHostedService<PresenceSweeper>();
        services.AddHostedService<LiveTokenExpiry>();
        return services;
    }

    /// <summary>Goes before UseAuthentication (see <see cref="OpenLiveChannel.MoveQueryTokenAsync"/>).</summary>
    public static IApplicationBuilder UseLiveChannelQueryToken(this IApplicationBuilder app) => app.Use(OpenLiveChannel.MoveQueryTokenAsync);

    public static IEndpointConventionBuilder MapLiveChannel(this IEndpointRouteBuilder endpoints) =>
        endpoints.Map(OpenLiveChannel.Path, OpenLiveChannel.RunAsync)
            .WithMetadata(new OpenLiveChannel.QueryTokenAllowed(), new RequiresRoleAttribute(ApiTokenRole.Viewer),
                new ScopedAttribute(ScopeRule.FilteredByHandler)) // notices of the caller's networks only (LiveHub)
            .RequireAuthorization(new AuthorizationPolicyBuilder(WiretyIdentity.SchemeName).RequireAuthenticatedUser().Build());
}
