using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events;
using Wirety.Events.Peers;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;
using Wolverine.Marten;

namespace Wirety.Server.Peers;

using Events = Wolverine.Marten.Events;
using Wirety.Events.Tokens;

public sealed record IssuedEnrollmentToken(Guid PeerId, string EnrollmentToken, DateTimeOffset EnrollmentTokenExpiresAt);

/// <summary>
/// One-time enrollment tokens for agent-managed peers. Only the hash is recorded; a new token voids the
/// peer's previous one, and enrolling with it replaces the peer's current agent session.
/// </summary>
public static class IssueEnrollmentToken
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    public static (string Value, EnrollmentTokenIssued Event) New(Guid networkId, Guid peerId, Actor actor, DateTimeOffset now)
    {
        var value = TokenSecrets.New(TokenSecrets.EnrollmentTokenPrefix);
        return (value, new EnrollmentTokenIssued(networkId, peerId, TokenSecrets.Hash(value), now + Lifetime, actor, now));
    }

    public static ProblemDetails Validate(Network? network, Guid networkId, Guid peerId) => network?.FindPeer(peerId) switch
    {
        null => PeerLookup.Missing(network, networkId, peerId),
        { Kind: PeerKind.Static } => ApiProblems.Conflict("A static peer has no agent and cannot enroll; download its config at creation instead."),
        _ => ApiProblems.None,
    };

    [RequiresRole(ApiTokenRole.Admin)]
    [WolverinePost("/api/v1/networks/{networkId}/peers/{peerId}/enrollment-token")]
    public static (IResult, Events) Post(
        Guid peerId, [WriteAggregate(Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] Network network,
        ClaimsPrincipal user, TimeProvider clock)
    {
        var (value, issued) = New(network.Id, peerId, user.ToActor(), clock.GetUtcNow());
        return (Results.Ok(new IssuedEnrollmentToken(peerId, value, issued.ExpiresAt)), [issued]);
    }
}
