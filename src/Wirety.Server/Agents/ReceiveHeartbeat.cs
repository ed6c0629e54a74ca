using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Wirety.Events.Agent;
using Wirety.Events.Peers;
using Wirety.Server.Auth;
using Wirety.Server.LiveChannel;
using Wirety.Server.Peers;
using Wirety.Server.Problems;
using Wolverine;
using Wolverine.Http;

namespace Wirety.Server.Agents;

/// <summary>An agent's heartbeat saw the peer at a different endpoint than last time (handled by <see cref="ObserveEndpointHandler"/>).</summary>
public sealed record ObserveEndpoint(Guid NetworkId, Guid PeerId, Guid SessionId, string Endpoint, DateTimeOffset At);

/// <summary>
/// Last endpoint seen per agent session on this instance, so only changes go to the network stream
/// (keyed by session: a re-enrolled peer starts with no recorded endpoint).
/// </summary>
public sealed class ObservedEndpoints
{
    private readonly ConcurrentDictionary<Guid, string> _bySession = new();

    /// <returns>True when this differs from what this instance saw last for the session.</returns>
    public bool Changed(Guid sessionId, string endpoint)
    {
        if (_bySession.TryGetValue(sessionId, out var last) && last == endpoint) return false;
        _bySession[sessionId] = endpoint;
        return true;
    }

    public void Clear() => _bySession.Clear();
}

public static class ReceiveHeartbeat
{
    public const int MaxEndpoints = 8, MaxPeerStats = 4096;

    public static ValidationErrors Validate(HeartbeatRequest request) => new ValidationErrors()
        .Check("hostname", AgentRules.Hostname(request.Hostname))
        .Check("listenPort", PeerRules.ListenPort(request.ListenPort))
        .Check("endpoints", request.Endpoints is { Count: > MaxEndpoints }
            ? $"endpoints lists at most {MaxEndpoints} entries."
            : request.Endpoints?.Select(PeerRules.Endpoint).FirstOrDefault(e => e is not null))
        .Check("uptimeSeconds", request.UptimeSeconds < 0 ? "uptimeSeconds cannot be negative." : null)
        .Check("peerStats", request.PeerStats is { Count: > MaxPeerStats } ? $"peerStats lists at most {MaxPeerStats} entries."
            : request.PeerStats?.Select(s => AgentRules.PublicKey(s.PublicKey) ?? (s.RxBytes < 0 || s.TxBytes < 0 ? "byte counters cannot be negative." : null))
                .FirstOrDefault(e => e is not null));

    /// <summary>Where other peers can reach this one: a reported endpoint, else the source address and listen port.</summary>
    public static string? ObservedEndpoint(HeartbeatRequest request, string source) =>
        request.Endpoints is { Count: > 0 } reported ? reported[0]
        : request.ListenPort is { } port and > 0 && source != "unknown" ? AgentRules.EndpointOf(source, port)
        : null;

    [Authorize(Policy = AgentSessionAuthentication.Policy)]
    [WolverinePost("/api/v1/agent/heartbeat")]
    public static async Task<IResult> Post(
        HeartbeatRequest? request, HttpContext http, ClaimsPrincipal user, HeartbeatIngestor ingestor,
        ObservedEndpoints observed, PeerPresence presence, IMessageBus bus, TimeProvider clock, CancellationToken ct)
    {
        if (request is null) return Rejection.MissingBody().ToResult();
        if (Validate(request) is { Any: true } errors) return errors.ToRejection().ToResult();

        var agent = AgentIdentity.Of(user);
        var now = clock.GetUtcNow();
        var source = AgentRules.SourceAddress(http);
        await ingestor.AppendAsync(new HeartbeatReceived(agent.NetworkId, agent.PeerId, agent.SessionId, source, request.Hostname!,
            request.ListenPort, request.Endpoints ?? [], request.UptimeSeconds,
            (request.PeerStats ?? []).Select(s => new HeartbeatPeerStat(s.PublicKey, s.LatestHandshake, s.RxBytes, s.TxBytes)).ToList(),
            now), ct);
        presence.Seen(agent.PeerId, agent.NetworkId, now);

        if (ObservedEndpoint(request, source) is { } endpoint && observed.Changed(agent.SessionId, endpoint))
            await bus.PublishAsync(new ObserveEndpoint(agent.NetworkId, agent.PeerId, agent.SessionId, endpoint, now));
        return Results.NoContent();
    }
}
