using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events.Peers;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wirety.Server.Routes;
using Wolverine.Http;
using Wolverine.Marten;

namespace Wirety.Server.Peers;

using Events = Wolverine.Marten.Events;
using Wirety.Events.Tokens;

/// <summary>
/// PATCH body: absent (null) fields stay as they are; <c>endpoint: ""</c> and <c>listenPort: 0</c> clear.
/// A peer's kind and address are fixed for its lifetime.
/// </summary>
public sealed record UpdatePeerRequest(
    string? Name, string? Endpoint, int? ListenPort, bool? Isolated, bool? FullEncapsulation,
    IReadOnlyList<string>? AdditionalAllowedIps, string? Kind, string? Address);

/// <summary>Changes a peer's settings; a request that changes nothing is a no-op.</summary>
public static class UpdatePeer
{
    public static PeerState? Load(Network? network, Guid peerId) => PeerLookup.Find(network, peerId);

    /// <summary>The server addresses this request must not route away (routes behind the peer are checked against them).</summary>
    public static ProtectedAddresses Before(HttpContext http, ServerAddresses server) => server.For(http);

    public static ProblemDetails Validate(
        UpdatePeerRequest? request, Network? network, PeerState? peer, Guid networkId, Guid peerId, ProtectedAddresses? protectedAddresses = null)
    {
        if (request is null) return ApiProblems.MissingBody();
        if (network is null || peer is null) return PeerLookup.Missing(network, networkId, peerId);

        var next = Merge(request, peer);
        var errors = new ValidationErrors()
            .Check("name", request.Name is null ? null : PeerRules.Name(request.Name))
            .Check("endpoint", request.Endpoint is null or "" ? null : PeerRules.Endpoint(request.Endpoint)
                // A static peer's endpoint: an address unless the network allows DNS names; a stored one may stay.
                ?? (peer.Kind == PeerKind.Static && request.Endpoint != peer.Endpoint
                    ? Agents.AgentRules.Endpoint(request.Endpoint, network.AllowDnsEndpoints) : null))
            .Check("listenPort", PeerRules.ListenPort(request.ListenPort))
            .Check("additionalAllowedIps", request.AdditionalAllowedIps is null ? null
                : PeerRules.AdditionalAllowedIps(request.AdditionalAllowedIps, network, peer.Id, out _, protectedAddresses))
            .Check("kind", request.Kind is not null && request.Kind != peer.Kind.ToString().ToLowerInvariant()
                ? "kind cannot be changed; delete the peer and create a new one." : null)
            .Check("address", request.Address is not null && request.Address != peer.Address
                ? "address cannot be changed; delete the peer and create a new one." : null);
        errors.Check(peer.Kind == PeerKind.Jump && next.Endpoint is null ? "endpoint" : "kind",
            PeerRules.KindFlags(peer.Kind, next.Endpoint, next.Isolated, next.FullEncapsulation));
        if (errors.Any) return errors.ToProblem();

        return PeerRules.NameTaken(network, next.Name, peer.Id) is { } taken ? ApiProblems.Conflict(taken) : ApiProblems.None;
    }

    [RequiresRole(ApiTokenRole.Admin)]
    [WolverinePatch("/api/v1/networks/{networkId}/peers/{peerId}")]
    public static (IResult, Events) Patch(
        UpdatePeerRequest request, [WriteAggregate(Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] Network network,
        [NotBody] PeerState peer, ClaimsPrincipal user, TimeProvider clock)
    {
        var next = Merge(request, peer);
        PeerRules.AdditionalAllowedIps(request.AdditionalAllowedIps ?? peer.AdditionalAllowedIps, network, peer.Id, out var routes);
        if (next.Name == peer.Name && next.Endpoint == peer.Endpoint && next.ListenPort == peer.ListenPort && next.Isolated == peer.Isolated
            && next.FullEncapsulation == peer.FullEncapsulation && routes.SequenceEqual(peer.AdditionalAllowedIps))
            return (Results.Ok(PeerView.Of(network, peer)), []);

        var updated = new PeerUpdated(network.Id, peer.Id, next.Name, next.Endpoint, next.ListenPort, next.Isolated,
            next.FullEncapsulation, routes, user.ToActor(), clock.GetUtcNow());
        return (Results.Ok(PeerView.After(network, peer, updated)), [updated]);
    }

    private sealed record Settings(string Name, string? Endpoint, int? ListenPort, bool Isolated, bool FullEncapsulation);

    /// <summary>The peer's settings with the request applied (routes aside: they are canonicalised against the network).</summary>
    private static Settings Merge(UpdatePeerRequest request, PeerState peer) => new(
        request.Name ?? peer.Name,
        request.Endpoint is null ? peer.Endpoint : request.Endpoint is "" ? null : request.Endpoint,
        request.ListenPort is null ? peer.ListenPort : request.ListenPort is 0 ? null : request.ListenPort,
        request.Isolated ?? peer.Isolated,
        request.FullEncapsulation ?? peer.FullEncapsulation);
}
