using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Wirety.Events.Addressing;
using Wirety.Events.Agent;
using Wirety.Events.Peers;
using Wirety.Server.Auth;
using Wirety.Server.Incidents;
using Wirety.Server.LiveChannel;
using Wirety.Server.Peers;
using Wirety.Server.Problems;
using Wolverine;
using Wolverine.Http;

namespace Wirety.Server.Agents;

public static class ReceiveHeartbeat
{
    public const int MaxEndpoints = 8, MaxPeerStats = 4096;

    public static ValidationErrors Validate(HeartbeatRequest request) => Problems(request, allowDnsEndpoints: false);

    /// <summary>Not named Validate: Wolverine would bind the flag from the query string.</summary>
    public static ValidationErrors Problems(HeartbeatRequest request, bool allowDnsEndpoints) => new ValidationErrors()
        .Check("hostname", AgentRules.Hostname(request.Hostname))
        .Check("listenPort", PeerRules.ListenPort(request.ListenPort))
        .Check("endpoints", request.Endpoints is { Count: > MaxEndpoints }
            ? $"endpoints lists at most {MaxEndpoints} entries."
            : request.Endpoints?.Select(e => AgentRules.Endpoint(e, allowDnsEndpoints)).FirstOrDefault(e => e is not null))
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
        SightingFilter sightings, PeerPresence presence, IMessageBus bus, TimeProvider clock, CancellationToken ct)
    {
        if (request is null) return ApiProblems.MissingBody().ToResult();
        var allowDns = await AgentRules.AllowsDnsEndpointsAsync(http, AgentIdentity.Of(user).NetworkId, request.Endpoints, ct);
        if (Problems(request, allowDns) is { Any: true } errors) return errors.ToProblem().ToResult();

        var agent = AgentIdentity.Of(user);
        var now = clock.GetUtcNow();
        var source = AgentRules.AgentSourceAddress(http);
        var heartbeat = new HeartbeatReceived(Guid.CreateVersion7(now), agent.NetworkId, agent.PeerId, agent.SessionId, source,
            request.Hostname!, request.ListenPort, request.Endpoints ?? [], request.UptimeSeconds,
            (request.PeerStats ?? []).Select(s => new HeartbeatPeerStat(s.PublicKey, s.LatestHandshake, s.RxBytes, s.TxBytes)).ToList(),
            now);
        await ingestor.AppendAsync(heartbeat, ct);
        presence.Seen(agent.PeerId, agent.NetworkId, now);

        // Only what differs from this peer's last sighting (or a periodic refresh) goes on to detection.
        var sighted = new PeerSighted(heartbeat.HeartbeatId, agent.NetworkId, agent.PeerId, agent.SessionId, source,
            ObservedEndpoint(request, source), now);
        if (sightings.ShouldReport(sighted))
            await bus.PublishAsync(sighted);
        return Results.NoContent();
    }
}
