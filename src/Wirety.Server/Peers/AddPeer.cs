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

        var errors = new ValidationErrors()
            .Check("name", PeerRules.Name(request.Name))
            .Check("endpoint", PeerRules.Endpoint(request.Endpoint))
            .Check("listenPort", PeerRules.ListenPort(request.ListenPort))
            .Check("additionalAllowedIps", PeerRules.AdditionalAllowedIps(request.AdditionalAllowedIps, network, null, out _, protectedAddresses));
        if (!PeerRules.TryParseKind(request.Kind, out var kind))
            errors.Add("kind", "kind is required and must be one of: jump, dynamic, static.");
        else
        {
            // A static peer's endpoint is what the others dial for ever (its config never changes): an address
            // unless the network allows DNS names (Agents/AgentRules.Endpoint).
            if (kind == PeerKind.Static && request.Endpoint is not null && PeerRules.Endpoint(request.Endpoint) is null)
                errors.Check("endpoint", Agents.AgentRules.Endpoint(request.Endpoint, network.AllowDnsEndpoints));
            errors.Check(kind == PeerKind.Jump && request.Endpoint is null ? "endpoint" : "kind",
                PeerRules.KindFlags(kind, request.Endpoint, request.Isolated ?? false, request.FullEncapsulation ?? false));
        }
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
        PeerRules.TryParseKind(request.Kind, out var kind);
        PeerRules.AdditionalAllowedIps(request.AdditionalAllowedIps, network, null, out var routes);
        var now = clock.GetUtcNow();
        var actor = user.ToActor();
        var keys = kind == PeerKind.Static ? WireGuardKeyPair.Generate() : null;
        // Validate refused a full network, so there is an address.
        var added = new PeerAdded(network.Id, Guid.CreateVersion7(now), request.Name!, kind, AddressFor(request, network)!,
            keys?.PublicKey, request.Endpoint, request.ListenPort is 0 ? null : request.ListenPort, request.Isolated ?? false,
            request.FullEncapsulation ?? false, routes, actor, now);
        var location = $"/api/v1/networks/{network.Id}/peers/{added.PeerId}";
        // Adding a peer to an existing network leaves the network, with the peer.
        var after = NetworkEvolution.Evolve(network, added)!;
        var view = PeerView.Of(after, after.FindPeer(added.PeerId)!);

        if (keys is not null)
            return (Results.Created(location, view with { Config = WgQuickRenderer.Render(ConfigBuilder.Build(after, added.PeerId), keys.PrivateKey) }),
                [added], MartenOps.Insert(new PublicKeyClaim(keys.PublicKey, network.Id, added.PeerId)));

        var (token, issued) = IssueEnrollmentToken.New(network.Id, added.PeerId, actor, now);
        return (Results.Created(location, view with { EnrollmentToken = token, EnrollmentTokenExpiresAt = issued.ExpiresAt }),
            [added, issued], MartenOps.Nothing());
    }

    /// <summary>The requested address (validated), or the lowest free one; null when the network is full.</summary>
    private static string? AddressFor(AddPeerRequest request, Network network) =>
        request.Address is { } requested
            ? System.Net.IPAddress.Parse(requested).ToString() // validated by Validate; this is its canonical spelling
            : Ipam.AllocateLowestFree(Ipv4Cidr.Parse(network.Cidr), network.Peers.Select(p => p.Address));
}
