namespace Wirety.Server.Auth.Oidc;

/// <summary>
/// Sign-in with an OpenID Connect provider, bound from configuration <c>Wirety:Oidc:*</c> and overridden by the
/// environment variables <c>WIRETY_OIDC_ISSUER</c>, <c>_CLIENT_ID</c>, <c>_CLIENT_SECRET</c>, <c>_SCOPES</c>,
/// <c>_GROUPS_CLAIM</c>, <c>_ROLE_MAP</c>, <c>_AUDIENCE</c>, <c>_PROVIDER_NAME</c> (as the other WIRETY_* settings).
/// Enabled when <see cref="Issuer"/> and <see cref="ClientId"/> are set.
/// </summary>
public sealed class OidcOptions
{
    public const string Section = "Wirety:Oidc";
    public const string EnvironmentPrefix = "WIRETY_OIDC_";

    /// <summary>The provider's issuer URL (its discovery document is <c>{Issuer}/.well-known/openid-configuration</c>).</summary>
    public string? Issuer { get; set; }

    public string? ClientId { get; set; }

    /// <summary>For a confidential client; a public client (PKCE only) leaves it unset. A secret: never logged.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>Space- (or comma-) separated scopes to request.</summary>
    public string Scopes { get; set; } = "openid profile email";

    /// <summary>The claim that lists the user's groups (for the role map, <c>WIRETY_OIDC_ROLE_MAP</c>: see <see cref="RoleMap"/>).</summary>
    public string GroupsClaim { get; set; } = "groups";

    /// <summary>The audience access tokens (JWT bearers) must carry; the client id when unset.</summary>
    public string? Audience { get; set; }

    /// <summary>What the sign-in page calls the provider ("Sign in with …").</summary>
    public string? ProviderName { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(Issuer) && !string.IsNullOrWhiteSpace(ClientId);

    public IReadOnlyList<string> ScopeList => Scopes.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Applies the <c>WIRETY_OIDC_*</c> variables over what the section bound (a set variable wins).</summary>
    public static void ApplyEnvironment(OidcOptions o, IConfiguration config)
    {
        string? Var(string name) => config[EnvironmentPrefix + name] is { Length: > 0 } v ? v.Trim() : null;
        o.Issuer = Var("ISSUER") ?? o.Issuer;
        o.ClientId = Var("CLIENT_ID") ?? o.ClientId;
        o.ClientSecret = Var("CLIENT_SECRET") ?? o.ClientSecret;
        o.Scopes = Var("SCOPES") ?? o.Scopes;
        o.GroupsClaim = Var("GROUPS_CLAIM") ?? o.GroupsClaim;
        o.Audience = Var("AUDIENCE") ?? o.Audience;
        o.ProviderName = Var("PROVIDER_NAME") ?? o.ProviderName;

    }
}

public static class OidcOptionsSetup
{
    /// <summary>Binds <see cref="OidcOptions"/> from <c>Wirety:Oidc</c>, then the <c>WIRETY_OIDC_*</c> variables.</summary>
    public static IServiceCollection AddOidcOptions(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<OidcOptions>().Bind(config.GetSection(OidcOptions.Section)).PostConfigure(o => OidcOptions.ApplyEnvironment(o, config));
        return services;
    }
}
