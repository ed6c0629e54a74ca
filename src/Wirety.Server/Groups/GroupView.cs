using Microsoft.AspNetCore.Mvc;
using Wirety.Projections.Networks;
using Wirety.Server.Networks;
using Wirety.Server.Problems;

namespace Wirety.Server.Groups;

public sealed record GroupView(
    Guid Id, Guid NetworkId, string Name, string? Description, IReadOnlyList<NamedRef> Members, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static GroupView Of(Network network, GroupState g) => new(
        g.Id, network.Id, g.Name, g.Description, GroupLookup.Peers(network, g.Members), g.CreatedAt, g.UpdatedAt);

    /// <summary>The group as a change leaves it, by the same fold that stores it (so the answer matches a later GET).</summary>
    public static GroupView After(Network network, Guid groupId, params object[] changes)
    {
        var after = NetworkEvolution.Evolve(network, changes)!;
        return Of(after, after.FindGroup(groupId)!);
    }
}

public static class GroupLookup
{
    public static GroupState? Find(Network? network, Guid groupId) => network?.FindGroup(groupId);

    /// <summary>The 404 for a group that is not there: its network is missing, or the network has no such group.</summary>
    public static ProblemDetails Missing(Network? network, Guid networkId, Guid groupId) =>
        network is null
            ? NetworkLookup.Missing(networkId)
            : ApiProblems.NotFound($"There is no group {groupId} in network '{network.Name}'.");

    /// <summary>Peers by id as views name them; ids no longer in the network are left out.</summary>
    public static IReadOnlyList<NamedRef> Peers(Network network, IEnumerable<Guid> ids) =>
        ids.Select(network.FindPeer).OfType<PeerState>().Select(p => new NamedRef(p.Id, p.Name)).ToList();

    public static IReadOnlyList<NamedRef> Groups(Network network, IEnumerable<Guid> ids) =>
        ids.Select(network.FindGroup).OfType<GroupState>().Select(g => new NamedRef(g.Id, g.Name)).ToList();
}

/// <summary>Field rules shared by group create, update and membership. Each returns null when the value is fine.</summary>
public static class GroupRules
{
    public const int MaxDescription = 500;

    /// <summary>Group (and policy) names follow the network name rules.</summary>
    public static string? Name(string? name) => NetworkRules.Name(name);

    public static string? Description(string? description) => description is null || description.Length <= MaxDescription
        ? null
        : $"description takes at most {MaxDescription} characters.";

    /// <summary>An empty description is none.</summary>
    public static string? CanonicalDescription(string? description) => string.IsNullOrWhiteSpace(description) ? null : description;

    public static string? NameTaken(Network network, string name, Guid? except) =>
        network.Groups.Any(g => g.Id != except && string.Equals(g.Name, name, StringComparison.OrdinalIgnoreCase))
            ? $"A group named '{name}' already exists in network '{network.Name}'."
            : null;

    /// <summary>The ids that are not peers of <paramref name="network"/> (the nil id included), or null when all are.</summary>
    public static string? UnknownPeers(Network network, IEnumerable<Guid> ids)
    {
        var unknown = ids.Where(id => network.FindPeer(id) is null).Distinct().ToList();
        return unknown.Count == 0 ? null : $"not peers of network '{network.Name}': {string.Join(", ", unknown)}.";
    }

    public static string? UnknownGroups(Network network, IEnumerable<Guid> ids)
    {
        var unknown = ids.Where(id => network.FindGroup(id) is null).Distinct().ToList();
        return unknown.Count == 0 ? null : $"not groups of network '{network.Name}': {string.Join(", ", unknown)}.";
    }

    /// <summary>Ids as events carry them: each once, sorted, so equal sets compare equal.</summary>
    public static IReadOnlyList<Guid> Canonical(IEnumerable<Guid>? ids) => (ids ?? []).Distinct().Order().ToArray();
}
