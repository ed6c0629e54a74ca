using System.Security.Claims;
using Marten;
using Wirety.Events;
using Wirety.Events.Peers;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Networks;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Peers;

/// <summary>
/// PATCH body: absent (null) fields stay as they are; <c>endpoint: ""</c> and <c>listenPort: 0</c> clear.
/// A peer's kind and address are fixed for its lifetime.
/// </summary>
public sealed record UpdatePeerRequest(
    string? Name, string? Endpoint, int? ListenPort, bool? Isolated, bool? FullEncapsulation,
    IReadOnlyList<string>? AdditionalAllowedIps, string? Kind, string? Address);

public static class UpdatePeer
{
    /// <returns>The event, or null when nothing changes.</returns>
    public static Decision<PeerUpdated?> Decide(UpdatePeerRequest request, Network network, PeerState peer, Actor actor, DateTimeOffset now)
    {
        var endpoint = request.Endpoint is null ? peer.Endpoint : request.Endpoint is "" ? null : request.Endpoint;
        var isolated = request.Isolated ?? peer.Isolated;
        var fullEncapsulation = request.FullEncapsulation ?? peer.FullEncapsulation;
        var errors = new ValidationErrors()
            .Check("name", request.Name is null ? null : PeerRules.Name(request.Name))
            .Check("endpoint", request.Endpoint is null or "" ? null : PeerRules.Endpoint(request.Endpoint))
            .Check("listenPort", PeerRules.ListenPort(request.ListenPort))
            .Check("additionalAllowedIps", request.AdditionalAllowedIps is null ? null
                : PeerRules.AdditionalAllowedIps(request.AdditionalAllowedIps, network, peer.Id, out _))
            .Check("kind", request.Kind is not null && request.Kind != peer.Kind.ToString().ToLowerInvariant()
                ? "kind cannot be changed; delete the peer and create a new one." : null)
            .Check("address", request.Address is not null && request.Address != peer.Address
                ? "address cannot be changed; delete the peer and create a new one." : null);
        errors.Check(peer.Kind == PeerKind.Jump && endpoint is null ? "endpoint" : "kind",
            PeerRules.KindFlags(peer.Kind, endpoint, isolated, fullEncapsulation));
        if (errors.Any) return errors.ToRejection();

        var name = request.Name ?? peer.Name;
        if (PeerRules.NameTaken(network, name, peer.Id) is { } taken) return Rejection.Conflict(taken);
        PeerRules.AdditionalAllowedIps(request.AdditionalAllowedIps ?? peer.AdditionalAllowedIps, network, peer.Id, out var routes);
        var listenPort = request.ListenPort is null ? peer.ListenPort : request.ListenPort is 0 ? null : request.ListenPort;

        if (name == peer.Name && endpoint == peer.Endpoint && listenPort == peer.ListenPort && isolated == peer.Isolated
            && fullEncapsulation == peer.FullEncapsulation && routes.SequenceEqual(peer.AdditionalAllowedIps))
            return new Decision<PeerUpdated?>(null, null);
        return new PeerUpdated(network.Id, peer.Id, name, endpoint, listenPort, isolated, fullEncapsulation, routes, actor, now);
    }

    [WolverinePatch("/api/v1/networks/{networkId}/peers/{peerId}")]
    public static async Task<IResult> Patch(
        Guid networkId, Guid peerId, UpdatePeerRequest? request, IDocumentSession session, ClaimsPrincipal user,
        TimeProvider clock, CancellationToken ct)
    {
        if (request is null) return Rejection.MissingBody().ToResult();
        var stream = await session.Events.FetchForExclusiveWriting<Network>(networkId, ct);
        if (PeerLookup.Find(stream.Aggregate, networkId, peerId) is { Rejected: { } missing }) return missing.ToResult();
        var network = stream.Aggregate!;
        var peer = network.FindPeer(peerId)!;

        var decision = Decide(request, network, peer, user.ToActor(), clock.GetUtcNow());
        if (decision.Rejected is { } rejected) return rejected.ToResult();
        if (decision.Value is not { } updated) return Results.Ok(PeerView.Of(networkId, peer));

        stream.AppendOne(updated);
        await session.SaveChangesAsync(ct);
        return Results.Ok(PeerView.Of(networkId, NetworkEvolution.Evolve(network, updated)!.FindPeer(peerId)!));
    }
}
