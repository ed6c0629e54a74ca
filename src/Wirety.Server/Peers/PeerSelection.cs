using Microsoft.AspNetCore.Mvc;
using Wirety.Projections.Networks;
using Wirety.Server.Networks;
using Wirety.Server.Problems;

namespace Wirety.Server.Peers;

/// <summary>
/// The peers a bulk block, unblock or delete is about (<c>peerIds</c>: 1 to <see cref="MaxPeers"/> ids), in the
/// order of the request. All or nothing: a nil or repeated id is a 400 and an id that names no peer of the network
/// a 404, each naming the item (<c>peerIds[i]</c>); the endpoints then append nothing.
/// </summary>
public sealed record PeerSelection(ProblemDetails Problem, IReadOnlyList<PeerState> Peers)
{
    public const int MaxPeers = 1000;

    /// <param name="errors">Other 400s of the request (its reason), answered together with the list's.</param>
    public static PeerSelection Of(IReadOnlyList<Guid>? peerIds, Network? network, Guid networkId, ValidationErrors errors)
    {
        if (network is null) return new(NetworkLookup.Missing(networkId), []);
        if (peerIds is not { Count: > 0 and <= MaxPeers })
            return new(errors.Add("peerIds", $"peerIds must list 1 to {MaxPeers} peer ids.").ToProblem(), []);

        var byId = network.Peers.ToDictionary(p => p.Id);
        var seen = new Dictionary<Guid, int>();
        var missing = new ValidationErrors();
        var peers = new List<PeerState>(peerIds.Count);
        for (var i = 0; i < peerIds.Count; i++)
        {
            var id = peerIds[i];
            if (id == Guid.Empty) errors.Add($"peerIds[{i}]", "The nil id names no peer.");
            else if (seen.TryGetValue(id, out var first)) errors.Add($"peerIds[{i}]", $"Peer {id} is also listed at peerIds[{first}].");
            else if (byId.TryGetValue(id, out var peer)) { seen[id] = i; peers.Add(peer); }
            else { seen[id] = i; missing.Add($"peerIds[{i}]", $"There is no peer {id} in network '{network.Name}'."); }
        }
        if (errors.Any) return new(errors.ToProblem(), []);
        if (missing.Any)
        {
            var problem = missing.ToProblem();
            problem.Status = 404;
            problem.Title = "Not found";
            return new(problem, []);
        }
        return new(ApiProblems.None, peers);
    }

    /// <summary>The selected peers as the changes leave them, by the fold that stores them (so the answer matches a later GET).</summary>
    public static PeersView After(Network network, IReadOnlyList<PeerState> peers, IEnumerable<object> changes)
    {
        var after = NetworkEvolution.Evolve(network, changes) ?? network;
        var byId = after.Peers.ToDictionary(p => p.Id);
        return new PeersView([.. peers.Select(p => PeerView.Of(after, byId.GetValueOrDefault(p.Id, p)))]);
    }
}
