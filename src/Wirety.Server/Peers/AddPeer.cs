using System.Security.Claims;
using Marten;
using Wirety.Events;
using Wirety.Events.Addressing;
using Wirety.Events.Peers;
using Wirety.Projections.Addressing;
using Wirety.Projections.Configs;
using Wirety.Projections.Networks;
using Wirety.Server.Agents;
using Wirety.Server.Auth;
using Wirety.Server.Networks;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Peers;

public sealed record AddPeerRequest(
    string? Name, string? Kind, string? Endpoint, int? ListenPort, bool? Isolated, bool? FullEncapsulation,
    IReadOnlyList<string>? AdditionalAllowedIps, string? Address);

public static class AddPeer
{
    /// <param name="staticPublicKey">The server-generated public key, for a static peer.</param>
    public static Decision<PeerAdded> Decide(
        AddPeerRequest request, Network network, Guid peerId, string? staticPublicKey, Actor actor, DateTimeOffset now)
    {
        var errors = new ValidationErrors()
            .Check("name", PeerRules.Name(request.Name))
            .Check("endpoint", PeerRules.Endpoint(request.Endpoint))
            .Check("listenPort", PeerRules.ListenPort(request.ListenPort))
            .Check("additionalAllowedIps", PeerRules.AdditionalAllowedIps(request.AdditionalAllowedIps, network, null, out var routes));
        if (!PeerRules.TryParseKind(request.Kind, out var kind))
            errors.Add("kind", "kind is required and must be one of: jump, dynamic, static.");
        else
            errors.Check(kind == PeerKind.Jump && request.Endpoint is null ? "endpoint" : "kind",
                PeerRules.KindFlags(kind, request.Endpoint, request.Isolated ?? false, request.FullEncapsulation ?? false));
        var cidr = Ipv4Cidr.Parse(network.Cidr);
        if (request.Address is not null)
            errors.Check("address", Ipam.ValidateRequested(cidr, request.Address, network.Peers.Select(p => p.Address)));
        if (errors.Any) return errors.ToRejection();

        if (PeerRules.NameTaken(network, request.Name!, null) is { } taken) return Rejection.Conflict(taken);
        var address = request.Address is { } requested
            ? System.Net.IPAddress.Parse(requested).ToString() // validated above; this is its canonical spelling
            : Ipam.AllocateLowestFree(cidr, network.Peers.Select(p => p.Address));
        if (address is null)
            return Rejection.Conflict($"Network '{network.Name}' ({network.Cidr}) is full: all {cidr.HostCount} addresses are allocated.");

        return new PeerAdded(network.Id, peerId, request.Name!, kind, address, kind == PeerKind.Static ? staticPublicKey : null,
            request.Endpoint, request.ListenPort is 0 ? null : request.ListenPort, request.Isolated ?? false,
            request.FullEncapsulation ?? false, routes, actor, now);
    }

    [WolverinePost("/api/v1/networks/{networkId}/peers")]
    public static async Task<IResult> Post(
        Guid networkId, AddPeerRequest? request, IDocumentSession session, ClaimsPrincipal user, TimeProvider clock,
        CancellationToken ct)
    {
        if (request is null) return Rejection.MissingBody().ToResult();
        // The exclusive stream lock serialises peer creation per network: concurrent requests get distinct addresses.
        var stream = await session.Events.FetchForExclusiveWriting<Network>(networkId, ct);
        if (stream.Aggregate is not { } network) return NetworkLookup.Missing(networkId).ToResult();

        var now = clock.GetUtcNow();
        var actor = user.ToActor();
        var keys = request.Kind == "static" ? WireGuardKeyPair.Generate() : null;
        var decision = Decide(request, network, Guid.CreateVersion7(now), keys?.PublicKey, actor, now);
        if (decision.Rejected is { } rejected) return rejected.ToResult();

        var added = decision.Value!;
        stream.AppendOne(added);
        if (keys is not null) session.Insert(new PublicKeyClaim(keys.PublicKey, network.Id, added.PeerId));
        string? enrollmentToken = null;
        if (added.Kind != PeerKind.Static)
        {
            (enrollmentToken, var issued) = IssueEnrollmentToken.New(network.Id, added.PeerId, actor, now);
            stream.AppendOne(issued);
        }
        await session.SaveChangesAsync(ct);

        var after = NetworkEvolution.Evolve(network, added)!;
        var view = PeerView.Of(network.Id, after.FindPeer(added.PeerId)!);
        view = keys is not null
            ? view with { Config = WgQuickRenderer.Render(ConfigBuilder.Build(after, added.PeerId), keys.PrivateKey) }
            : view with { EnrollmentToken = enrollmentToken, EnrollmentTokenExpiresAt = now + IssueEnrollmentToken.Lifetime };
        return Results.Created($"/api/v1/networks/{network.Id}/peers/{added.PeerId}", view);
    }
}
