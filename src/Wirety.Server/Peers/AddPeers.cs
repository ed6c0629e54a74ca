using Microsoft.AspNetCore.Mvc;
using Wirety.Events.Addressing;
using Wirety.Projections.Addressing;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Networks;
using Wirety.Server.Problems;
using Wirety.Server.Routes;
using Wolverine.Http;
using Wolverine.Marten;

namespace Wirety.Server.Peers;

using Events = Wolverine.Marten.Events;
using Wirety.Events.Tokens;

public sealed record AddPeersRequest(IReadOnlyList<AddPeerRequest?>? Peers);

/// <summary>The peers a bulk operation created or left, in the order of the request.</summary>
public sealed record PeersView(IReadOnlyList<PeerView> Peers);

/// <summary>
/// Creates up to <see cref="MaxPeers"/> peers in one request, one transaction and one append: each item is what
/// <see cref="AddPeer"/> takes and gets what it answers (an enrollment token, or a static peer's config). All or
/// nothing: one bad item refuses the whole request with a problem naming it (<c>peers[i].field</c>), and nothing is
/// appended. The items are checked in order, each against the network with the ones before it (so a route of one
/// item may not overlap a route of an earlier one, as for peers added one by one); names must be unique in the
/// network and in the request, requested addresses free and not repeated, and the network must have room for all.
/// Addresses come from one walk over the used ones (<see cref="Ipam.AllocateLowestFree(Ipv4Cidr, IEnumerable{string}, int)"/>).
/// </summary>
public static class AddPeers
{
    public const int MaxPeers = 1000;

    /// <summary>What the request decides: a problem, or the new peers.</summary>
    public sealed record Plan(ProblemDetails Problem, IReadOnlyList<NewPeer> Peers, Network? After);

    public static Plan Load(AddPeersRequest? request, Network? network, Guid networkId, HttpContext http, ServerAddresses server, TimeProvider clock) =>
        Decide(request, network, networkId, server.For(http), http.User.ToActor(), clock.GetUtcNow());

    public static ProblemDetails Validate(Plan plan) => plan.Problem;

    // A custom-method route (`peers:bulk`, like peers:block/unblock/delete) routes fine in ASP.NET Core (a literal
    // segment). Wolverine names the generated handler type after the route and drops the `:...` part, so without
    // TypeName all of them and `POST .../peers` share one name and get hashed suffixes (the single POST's too).
    [RequiresRole(ApiTokenRole.Admin)]
    [WolverinePost("/api/v1/networks/{networkId}/peers:bulk", TypeName = "POST_api_v1_networks_networkId_peers_bulk")]
    public static (IResult, Events, IMartenOp) Post(
        AddPeersRequest request, [WriteAggregate(Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] Network network, Plan plan)
    {
        var claims = plan.Peers.Select(p => p.Claim).OfType<object>().ToArray();
        return (Results.Created($"/api/v1/networks/{network.Id}/peers", new PeersView([.. plan.Peers.Select(p => p.View(plan.After!))])),
            [.. plan.Peers.SelectMany(p => p.Events)],
            claims.Length == 0 ? MartenOps.Nothing() : MartenOps.InsertObjects(claims));
    }

    /// <summary>The pure decision (secrets are generated here, but only reach the answer when nothing was refused).</summary>
    public static Plan Decide(AddPeersRequest? request, Network? network, Guid networkId, ProtectedAddresses? protectedAddresses,
        Wirety.Events.Actor actor, DateTimeOffset now)
    {
        if (request is null) return Refused(ApiProblems.MissingBody());
        if (network is null) return Refused(NetworkLookup.Missing(networkId));
        if (request.Peers is not { Count: > 0 and <= MaxPeers } items)
            return Refused(new ValidationErrors().Add("peers", $"peers must list 1 to {MaxPeers} peers.").ToProblem());

        var errors = new ValidationErrors();    // 400: the request itself is wrong
        var conflicts = new ValidationErrors(); // 409: it clashes with the network (names, room)
        var cidr = Ipv4Cidr.Parse(network.Cidr);

        // Requested addresses first: they are taken before any allocation.
        var used = new HashSet<string>(network.Peers.Select(p => p.Address), StringComparer.Ordinal);
        var existing = used.Count;
        var requestedBy = new Dictionary<string, int>(StringComparer.Ordinal);
        var addresses = new string?[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i]?.Address is not { } requested) continue;
            if (Ipam.ValidateRequested(cidr, requested, []) is { } invalid) { errors.Add($"peers[{i}].address", invalid); continue; }
            var canonical = System.Net.IPAddress.Parse(requested).ToString();
            if (requestedBy.TryGetValue(canonical, out var first))
                errors.Add($"peers[{i}].address", $"{requested} is also requested by peers[{first}].");
            else if (used.Contains(canonical))
                errors.Add($"peers[{i}].address", $"{requested} is already assigned to another peer.");
            else
            {
                requestedBy[canonical] = i;
                used.Add(canonical);
            }
            addresses[i] = canonical;
        }
        var wanted = items.Count(item => item is not null && item.Address is null);
        var allocated = Ipam.AllocateLowestFree(cidr, used, wanted);
        var nextAllocated = 0;

        var names = new HashSet<string>(network.Peers.Select(p => p.Name), StringComparer.OrdinalIgnoreCase);
        var namedBy = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var peers = new List<NewPeer>(items.Count);
        var state = network;
        for (var i = 0; i < items.Count; i++)
        {
            var at = $"peers[{i}].";
            if (items[i] is not { } item) { errors.Add($"peers[{i}]", "each item must be a peer object."); continue; }

            var fieldsBefore = errors.Count;
            var invalid = NewPeer.CheckFields(errors, at, item, state, protectedAddresses).Count > fieldsBefore;
            if (item.Name is { } name && PeerRules.Name(name) is null)
            {
                if (namedBy.TryGetValue(name, out var first))
                    conflicts.Add(at + "name", $"The name '{name}' is also used by peers[{first}] of this request.");
                else if (names.Contains(name))
                    conflicts.Add(at + "name", $"A peer named '{name}' already exists in network '{network.Name}'.");
                else namedBy[name] = i;
            }

            var address = item.Address is null
                ? nextAllocated < allocated.Count ? allocated[nextAllocated++] : null
                : addresses[i];
            if (item.Address is null && address is null)
                conflicts.Add(at + "address", $"Network '{network.Name}' ({network.Cidr}) has no room for this peer: "
                    + $"{cidr.HostCount - existing} of its {cidr.HostCount} addresses are free and the request needs {wanted + requestedBy.Count}.");

            // Later items are checked against the network with this one in it (routes of one another).
            if (invalid || address is null) continue;
            var peer = NewPeer.Create(item, state, address, actor, now);
            peers.Add(peer);
            state = NetworkEvolution.Evolve(state, peer.Added)!;
        }

        if (errors.Any) return Refused(errors.ToProblem());
        if (conflicts.Any)
        {
            var problem = conflicts.ToProblem();
            problem.Status = 409;
            problem.Title = "Conflict";
            return Refused(problem);
        }
        return new Plan(ApiProblems.None, peers, state);
    }

    private static Plan Refused(ProblemDetails problem) => new(problem, [], null);
}
