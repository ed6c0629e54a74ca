using System.Security.Claims;
using Marten;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events.Addressing;
using Wirety.Events;
using Wirety.Events.Peers;
using Wirety.Projections.Addressing;
using Wirety.Projections.Configs;
using Wirety.Projections.Networks;
using Wirety.Server.Agents;
using Wirety.Server.Auth;
using Wirety.Server.Networks;
using Wirety.Server.Problems;
using Wirety.Server.Routes;
using Wolverine.Http;
using Wolverine.Marten;

namespace Wirety.Server.Peers;

using Events = Wolverine.Marten.Events;
using Wirety.Events.Tokens;

public sealed record AddPeerRequest(
    string? Name, string? Kind, string? Endpoint, int? ListenPort, bool? Isolated, bool? FullEncapsulation,
    IReadOnlyList<string>? AdditionalAllowedIps, string? Address);

/// <summary>
/// Adds a peer with an address from the network's range. The network stream is locked exclusively, which
/// serialises peer creation per network: concurrent requests get distinct addresses.
/// </summary>
public static class AddPeer
{
    /// <summary>The server addresses this request must not route away (routes behind the peer are checked against them).</summary>
    public static ProtectedAddresses Before(HttpContext http, ServerAddresses server) => server.For(http);

    public static ProblemDetails Validate(AddPeerRequest? request, Network? network, Guid networkId, ProtectedAddresses? protectedAddresses = null)
    {
        if (request is null) return ApiProblems.MissingBody();
        if (network is null) return NetworkLookup.Missing(networkId);

        var errors = NewPeer.CheckFields(new ValidationErrors(), "", request, network, protectedAddresses);
        if (request.Address is not null)
            errors.Check("address", Ipam.ValidateRequested(Ipv4Cidr.Parse(network.Cidr), request.Address, network.Peers.Select(p => p.Address)));
        if (errors.Any) return errors.ToProblem();

        if (PeerRules.NameTaken(network, request.Name!, null) is { } taken) return ApiProblems.Conflict(taken);
        return AddressFor(request, network) is null
            ? ApiProblems.Conflict($"Network '{network.Name}' ({network.Cidr}) is full: all {Ipv4Cidr.Parse(network.Cidr).HostCount} addresses are allocated.")
            : ApiProblems.None;
    }

    /// <summary>
    /// Appends the peer and, for an agent-managed one, its first enrollment token; answers with the one-time
    /// secret: that token, or a static peer's complete config with the private key generated here.
    /// </summary>
    [RequiresRole(ApiTokenRole.Admin)]
    [WolverinePost("/api/v1/networks/{networkId}/peers")]
    public static (IResult, Events, IMartenOp) Post(
        AddPeerRequest request, [WriteAggregate(Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] Network network,
        ClaimsPrincipal user, TimeProvider clock)
    {
        // Validate refused a full network, so there is an address.
        var peer = NewPeer.Create(request, network, AddressFor(request, network)!, user.ToActor(), clock.GetUtcNow());
        // Adding a peer to an existing network leaves the network, with the peer.
        var after = NetworkEvolution.Evolve(network, peer.Added)!;
        return (Results.Created(peer.Location, peer.View(after)), [.. peer.Events],
            peer.Claim is { } claim ? MartenOps.Insert(claim) : MartenOps.Nothing());
    }

    /// <summary>The requested address (validated), or the lowest free one; null when the network is full.</summary>
    private static string? AddressFor(AddPeerRequest request, Network network) =>
        request.Address is { } requested
            ? System.Net.IPAddress.Parse(requested).ToString() // validated by Validate; this is its canonical spelling
            : Ipam.AllocateLowestFree(Ipv4Cidr.Parse(network.Cidr), network.Peers.Select(p => p.Address));
}
