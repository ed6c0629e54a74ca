using System.Text.Json;
using JasperFx;
using JasperFx.Events;
using Marten;
using Marten.Exceptions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Wirety.Events;
using Wirety.Events.Agent;
using Wirety.Events.Peers;
using Wirety.Projections.Agents;
using Wirety.Projections.Configs;
using Wirety.Projections.Networks;
using Wirety.Server.AgentDeltas;
using Wirety.Server.Auth;
using Wirety.Server.Configs;
using Wirety.Server.Limits;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Agents;

public static class EnrollAgent
{
    /// <summary>Issued tokens are far shorter; anything longer is not worth hashing.</summary>
    public const int MaxTokenLength = 256;

    public static ValidationErrors Validate(EnrollRequest request) => new ValidationErrors()
        .Check("token", string.IsNullOrWhiteSpace(request.Token) ? "token is required."
            : request.Token.Length > MaxTokenLength ? $"token must be at most {MaxTokenLength} characters." : null)
        .Check("publicKey", AgentRules.PeerPublicKey(request.PublicKey))
        .Check("hostname", AgentRules.Hostname(request.Hostname))
        .Check("agentVersion", request.AgentVersion is { Length: > 64 } ? "agentVersion must be at most 64 characters." : null);

    /// <summary>Why a presented token cannot enroll, or null when it can.</summary>
    public static string? TicketProblem(EnrollmentTicket? ticket, DateTimeOffset now) => ticket switch
    {
        null => "unknown token",
        { UsedAt: not null } => "token already used",
        { VoidedAt: not null } => "token superseded or its peer deleted",
        _ when ticket.ExpiresAt <= now => "token expired",
        _ => null,
    };

    /// <summary>
    /// Trades a one-time enrollment token and the agent's own public key for a session credential and
    /// the peer's config. The private key never leaves the agent.
    /// </summary>
    [AllowAnonymous]
    [WolverinePost("/api/v1/agent/enroll")]
    public static async Task<IResult> Post(
        EnrollRequest? request, HttpContext http, IDocumentSession session, IDocumentStore store, ConfigCache configs,
        IOptions<LimitsOptions> limits, AgentSigningKey signingKey, TimeProvider clock, CancellationToken ct)
    {
        if (request is null) return ApiProblems.MissingBody().ToResult();
        if (Validate(request) is { Any: true } errors) return errors.ToProblem().ToResult();

        // The key's canonical text: what is claimed, stored and compared below (another spelling of a held key is that key).
        var publicKey = WireGuardKey.Canonical(request.PublicKey)!;
        var now = clock.GetUtcNow();
        var source = AgentRules.AgentSourceAddress(http);
        var hash = TokenSecrets.Hash(request.Token!);
        var ticket = await session.LoadAsync<EnrollmentTicket>(hash, ct);
        IEventStream<Network>? stream = null;
        if (ticket is not null)
        {
            // Serialise with every other change to this network, then read the ticket again under the lock
            // so two agents racing with the same token cannot both win.
            stream = await session.Events.FetchForExclusiveWriting<Network>(ticket.NetworkId, ct);
            ticket = await session.LoadAsync<EnrollmentTicket>(hash, ct);
        }
        var peer = ticket is null ? null : stream?.Aggregate?.FindPeer(ticket.PeerId);
        if ((TicketProblem(ticket, now) ?? (peer is null ? "token's peer no longer exists" : null)) is { } problem)
            return await RejectAsync(store, ticket, problem, source, request.Hostname, now, limits.Value.RejectionStreamPeriod, ct);

        var network = stream!.Aggregate!;
        var sessionId = Guid.CreateVersion7(now);
        var sessionToken = TokenSecrets.New(TokenSecrets.SessionTokenPrefix);
        var actor = new Actor(sessionId, "agent:" + request.Hostname);
        var enrolled = new PeerEnrolled(network.Id, peer!.Id, publicKey, request.Hostname!, request.AgentVersion,
            sessionId, TokenSecrets.Hash(sessionToken), source, actor, now);

        // A key held by another peer is refused before anything is appended. The unique insert of the claim still
        // decides a race with an enrollment in another network (which this stream lock does not hold).
        if (await PublicKeyClaims.HeldByAnotherAsync(session, publicKey, peer.Id, ct))
            return KeyInUse();
        PublicKeyClaims.Claim(session, publicKey, network.Id, peer.Id);
        stream.AppendOne(enrolled);
        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (JasperFx.DocumentAlreadyExistsException)
        {
            return KeyInUse();
        }

        // The config as the config endpoint serves it (same version and bytes): enrolling may not change this
        // peer's own config, and then its version stays what it was. The commit already invalidated the
        // cached configs of this network, so this reads the committed state.
        var served = await configs.GetAsync(network.Id, peer.Id, ConfigFormat.Agent);
        var config = JsonSerializer.Deserialize(served!.Body, AgentProtocolJson.Default.AgentConfig)!;
        // The public half only, for the agent to pin (delta envelopes are signed with the private half).
        await signingKey.EnsureLoadedAsync(ct);
        return Results.Ok(new EnrollResponse(peer.Id, network.Id, sessionToken, config, signingKey.PublicKey));
    }

    private static IResult KeyInUse() => PublicKeyClaims.InUse().ToResult();

    /// <summary>
    /// The stream refused enrollments from one source address share for one period: a flood of made-up tokens
    /// (already bounded per address by the rate limiter) grows one stream, not one stream per attempt.
    /// Deterministic, so every instance appends to the same stream.
    /// </summary>
    public static Guid RejectionStream(string source, DateTimeOffset now, TimeSpan period)
    {
        var start = new DateTimeOffset(now.UtcTicks - now.UtcTicks % period.Ticks, TimeSpan.Zero);
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"wirety:enrollment-rejections:{source}:{start:O}"));
        return new Guid(hash.AsSpan(0, 16));
    }

    private static async Task<IResult> RejectAsync(IDocumentStore store, EnrollmentTicket? ticket, string reason,
        string source, string? hostname, DateTimeOffset now, TimeSpan period, CancellationToken ct)
    {
        // Its own session: the request's session may hold the network's lock, and a rejection never contends with it.
        var id = Guid.CreateVersion7(now);
        var rejected = new EnrollmentRejected(id, ticket?.NetworkId, ticket?.PeerId, reason, source, hostname, now);
        for (var attempt = 1; ; attempt++)
        {
            await using var own = store.LightweightSession();
            own.Events.Append(RejectionStream(source, now, period), rejected);
            try
            {
                await own.SaveChangesAsync(ct);
                break;
            }
            // Two refusals from one address at the same moment append to one stream: the second goes again.
            catch (Exception e) when (attempt < 5 && e is ConcurrencyException or EventStreamUnexpectedMaxEventIdException) { }
        }
        return Results.Problem(statusCode: 401, title: "Unauthorized",
            detail: $"Enrollment refused: {reason}. Ask an admin for a new enrollment token.");
    }
}
