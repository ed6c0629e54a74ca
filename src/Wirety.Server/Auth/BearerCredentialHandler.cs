using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Wirety.Server.Auth;

/// <summary>
/// Shared shape of Wirety's bearer schemes: read the bearer value, authenticate it, and answer a
/// challenge with a 401 problem that says why the credential was refused.
/// </summary>
public abstract class BearerCredentialHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private const string FailureKey = "wirety.auth.failure";

    /// <summary>What to tell a caller who sent no usable credential at all.</summary>
    protected abstract string MissingCredential { get; }

    protected abstract Task<AuthenticateResult> AuthenticateBearerAsync(string value);

    protected sealed override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header) || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return Task.FromResult(Fail(MissingCredential));
        return AuthenticateBearerAsync(header["Bearer ".Length..].Trim());
    }

    protected AuthenticateResult Fail(string why)
    {
        Context.Items[FailureKey] = why;
        return AuthenticateResult.Fail(why);
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        await Results.Problem(statusCode: 401, title: "Unauthorized",
            detail: Context.Items[FailureKey] as string ?? MissingCredential).ExecuteAsync(Context);
    }
}
