using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Wirety.Events;
using Wirety.Projections.Agents;

namespace Wirety.Server.Auth;

/// <summary>
/// Authenticates an agent by its session credential (<c>Bearer wirety_session_...</c>). Used only by
/// the <c>/api/v1/agent</c> endpoints; admin endpoints never accept a session and vice versa.
/// </summary>
public sealed class AgentSessionAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    CredentialCache<AgentSession> sessions)
    : BearerCredentialHandler(options, logger, encoder)
{
    public const string SchemeName = "AgentSession";
    public const string Policy = "agent";
    public const string PeerIdClaim = "wirety:peer", NetworkIdClaim = "wirety:network", SessionIdClaim = "wirety:session";
    protected override string MissingCredential =>
        "An agent session credential is required: send `Authorization: Bearer wirety_session_...`.";

    protected override async Task<AuthenticateResult> AuthenticateBearerAsync(string value)
    {
        if (!value.StartsWith(TokenSecrets.SessionTokenPrefix, StringComparison.Ordinal))
            return Fail("The bearer token is not a Wirety agent session credential.");

        var hash = TokenSecrets.Hash(value);
        var session = await sessions.FindAsync(hash, Context.RequestAborted);
        if (session is null || !TokenSecrets.HashesEqual(session.TokenHash, hash)) return Fail("The agent session is not known.");
        if (session.RevokedAt is not null)
            return Fail("This peer's session was revoked (the peer was deleted or enrolled again); re-enroll the agent.");

        var identity = new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, session.Id.ToString()), new Claim(ClaimTypes.Name, "agent:" + session.Hostname),
            new Claim(PeerIdClaim, session.PeerId.ToString()), new Claim(NetworkIdClaim, session.NetworkId.ToString()),
            new Claim(SessionIdClaim, session.Id.ToString()),
        ], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}

/// <summary>The authenticated agent, read from its claims.</summary>
public sealed record AgentIdentity(Guid SessionId, Guid PeerId, Guid NetworkId, Actor Actor)
{
    public static AgentIdentity Of(ClaimsPrincipal user)
    {
        var session = Guid.Parse(user.FindFirstValue(AgentSessionAuthentication.SessionIdClaim)!);
        return new AgentIdentity(session, Guid.Parse(user.FindFirstValue(AgentSessionAuthentication.PeerIdClaim)!),
            Guid.Parse(user.FindFirstValue(AgentSessionAuthentication.NetworkIdClaim)!),
            new Actor(session, user.FindFirstValue(ClaimTypes.Name)!));
    }
}
