using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Wirety.Server.Auth.Oidc;
using Wolverine.Http;

namespace Wirety.Server.Auth.Sessions;

/// <summary>What the sign-in page offers: identity-provider sign-in (and the provider's name) besides API tokens.</summary>
public sealed record AuthConfigView(bool Oidc, string? ProviderName);

public static class GetAuthConfig
{
    [AllowAnonymous]
    [WolverineGet("/api/v1/auth/config")]
    public static AuthConfigView Get(IOptions<OidcOptions> oidc) =>
        new(oidc.Value.Enabled, oidc.Value.Enabled ? oidc.Value.ProviderName : null);
}
