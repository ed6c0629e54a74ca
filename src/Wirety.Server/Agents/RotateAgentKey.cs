using System.Security.Claims;
using System.Text.Json;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events.Agent;
using Wirety.Events.Peers;
using Wirety.Projections.Configs;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Configs;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Agents;

/// <summary>
/// An enrolled agent swaps its WireGuard key pair for a new one (by hand with <c>wirety-agent rotate-key</c>, or
/// when the network's rotation interval is up). The agent's session is the proof of possession of the old
/// identity: it was issued to whoever enrolled with the old key, and revoked when the peer is deleted or enrolls
/// again. Only the new public half is sent; every config listing the peer swaps the old key for it.
/// </summary>
public static class RotateAgentKey
{
    /// <summary>Not named Validate: Wolverine would call it before <see cref="Post"/>, with a null body too.</summary>
    public static ValidationErrors Problems(RotateKeyRequest request) =>
        new ValidationErrors().Check("publicKey", AgentRules.PeerPublicKey(request.PublicKey));

    /// <summary>
    /// The decision against the network as it is now: the event to append; or none and no problem when the peer
    /// already holds <paramref name="publicKey"/> (a retried rotation whose answer was lost is a no-op); or why not.
    /// </summary>
    /// <param name="publicKey">The new key's canonical text (<see cref="WireGuardKey.Canonical"/>).</param>
    public static (PeerKeyRotated? Rotated, ProblemDetails Problem) Decide(
        Network? network, AgentIdentity agent, string publicKey, DateTimeOffset now)
    {
        if (network?.FindPeer(agent.PeerId) is not { } peer)
            return (null, ApiProblems.NotFound("This peer no longer exists (it was deleted)."));
        // The session is checked under the network's lock too: a re-enrollment revokes it, and the credential
        // cache may not know yet.
        if (peer.SessionId != agent.SessionId)
            return (null, new ProblemDetails
            {
                Status = 401, Title = "Unauthorized",
                Detail = "This session is no longer the peer's current session (the peer enrolled again); re-enroll the agent.",
            });
        // A blocked peer is cut out of the mesh, typically as suspected stolen: whoever holds its session must not
        // be able to give it a fresh identity. An admin unblocks it (or it enrolls again with a new token) first.
        if (peer.Blocked)
            return (null, ApiProblems.Conflict("This peer is blocked; its key cannot be rotated until an admin unblocks it."));
        if (peer.PublicKey == publicKey) return (null, ApiProblems.None);
        return (new PeerKeyRotated(network.Id, peer.Id, peer.PublicKey ?? "", publicKey, agent.SessionId, agent.Actor, now), ApiProblems.None);
    }

    [Authorize(Policy = AgentSessionAuthentication.Policy)]
    [WolverinePost("/api/v1/agent/rotate-key")]
    public static async Task<IResult> Post(
        RotateKeyRequest? request, ClaimsPrincipal user, IDocumentSession session, ConfigCache configs, TimeProvider clock,
        CancellationToken ct)
    {
        if (request is null) return ApiProblems.MissingBody().ToResult();
        if (Problems(request) is { Any: true } errors) return errors.ToProblem().ToResult();

        var agent = AgentIdentity.Of(user);
        var publicKey = WireGuardKey.Canonical(request.PublicKey)!;
        // Serialised with every other change to the network (a block, a re-enrollment, another rotation).
        var stream = await session.Events.FetchForExclusiveWriting<Network>(agent.NetworkId, ct);
        var (rotated, problem) = Decide(stream.Aggregate, agent, publicKey, clock.GetUtcNow());
        if (problem.Status is not null) return problem.ToResult();

        if (rotated is not null)
        {
            // Refused before anything is appended; the unique insert of the claim decides a race with another
            // network's enrollment or rotation (which this stream lock does not hold).
            if (await PublicKeyClaims.HeldByAnotherAsync(session, publicKey, agent.PeerId, ct)) return PublicKeyClaims.InUse().ToResult();
            PublicKeyClaims.Claim(session, publicKey, agent.NetworkId, agent.PeerId);
            stream.AppendOne(rotated);
            try
            {
                await session.SaveChangesAsync(ct);
            }
            catch (JasperFx.DocumentAlreadyExistsException)
            {
                return PublicKeyClaims.InUse().ToResult();
            }
        }

        // The config as the config endpoint serves it (same version and bytes). The agent's own config does not
        // show its own key, so its version moves only if something else in it changed; other peers' configs move.
        var served = await configs.GetAsync(agent.NetworkId, agent.PeerId, ConfigFormat.Agent);
        if (served is null) return ApiProblems.NotFound("This peer no longer exists (it was deleted).").ToResult();
        var config = JsonSerializer.Deserialize(served.Body, AgentProtocolJson.Default.AgentConfig)!;
        return Results.Ok(new RotateKeyResponse(config));
    }
}
