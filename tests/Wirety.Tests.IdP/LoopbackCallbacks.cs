using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Core;
using OpenIddict.EntityFrameworkCore.Models;

namespace Wirety.Tests.IdP;

/// <summary>
/// With <c>--allow-loopback-callbacks</c>, the UI client may also use
/// <c>http://127.0.0.1:ANY/api/v1/auth/oidc/callback</c> (and <c>localhost</c>): a harness that learns the Wirety server's
/// port only after starting the provider needs no restart. The registered redirect URIs are still accepted as usual.
/// </summary>
public sealed class LoopbackApplicationManager(
    IOpenIddictApplicationCache<OpenIddictEntityFrameworkCoreApplication> cache,
    ILogger<OpenIddictApplicationManager<OpenIddictEntityFrameworkCoreApplication>> logger,
    IOptionsMonitor<OpenIddictCoreOptions> options,
    IOpenIddictApplicationStore<OpenIddictEntityFrameworkCoreApplication> store,
    IdpSettings settings)
    : OpenIddictApplicationManager<OpenIddictEntityFrameworkCoreApplication>(cache, logger, options, store)
{
    public override async ValueTask<bool> ValidateRedirectUriAsync(OpenIddictEntityFrameworkCoreApplication application,
        string uri, CancellationToken cancellationToken = default)
    {
        if (await base.ValidateRedirectUriAsync(application, uri, cancellationToken)) return true;
        return settings.AllowLoopbackCallbacks
            && await GetClientIdAsync(application, cancellationToken) == settings.ClientId
            && IsLoopbackCallback(uri);
    }

    private static bool IsLoopbackCallback(string uri) =>
        Uri.TryCreate(uri, UriKind.Absolute, out var parsed)
        && parsed.Scheme == Uri.UriSchemeHttp
        && parsed.Host is "127.0.0.1" or "localhost"
        && parsed.AbsolutePath == IdpSettings.CallbackPath
        && parsed.Query.Length == 0 && parsed.Fragment.Length == 0 && parsed.UserInfo.Length == 0;
}
