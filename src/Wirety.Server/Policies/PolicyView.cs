using System.Collections.Immutable;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events.Segmentation;
using Wirety.Projections.Networks;
using Wirety.Server.Groups;
using Wirety.Server.Networks;
using Wirety.Server.Problems;

namespace Wirety.Server.Policies;

/// <summary>One side of a policy as the API reads and writes it: group ids and peer ids (the view names them).</summary>
public sealed record PolicyTargetsRequest(IReadOnlyList<Guid>? Groups, IReadOnlyList<Guid>? Peers);

public sealed record PolicyTargetsView(IReadOnlyList<NamedRef> Groups, IReadOnlyList<NamedRef> Peers)
{
    public static PolicyTargetsView Of(Network network, PolicyTargets t) =>
        new(GroupLookup.Groups(network, t.Groups), GroupLookup.Peers(network, t.Peers));
}

public sealed record PolicyView(
    Guid Id, Guid NetworkId, string Name, string? Description, PolicyTargetsView Sources, PolicyTargetsView Destinations,
    IReadOnlyList<string> Ports, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static PolicyView Of(Network network, PolicyState p) => new(
        p.Id, network.Id, p.Name, p.Description, PolicyTargetsView.Of(network, p.Sources), PolicyTargetsView.Of(network, p.Destinations),
        p.Ports, p.CreatedAt, p.UpdatedAt);

    /// <summary>The policy as a change leaves it, by the same fold that stores it.</summary>
    public static PolicyView After(Network network, Guid policyId, object change)
    {
        var after = NetworkEvolution.Evolve(network, change)!;
        return Of(after, after.FindPolicy(policyId)!);
    }
}

public static class PolicyLookup
{
    public static PolicyState? Find(Network? network, Guid policyId) => network?.FindPolicy(policyId);

    public static ProblemDetails Missing(Network? network, Guid networkId, Guid policyId) =>
        network is null
            ? NetworkLookup.Missing(networkId)
            : ApiProblems.NotFound($"There is no policy {policyId} in network '{network.Name}'.");
}

/// <summary>Field rules shared by policy create, update and the what-if preview. Each returns null when the value is fine.</summary>
public static class PolicyRules
{
    public const int MaxPorts = 64;

    public static string? NameTaken(Network network, string name, Guid? except) =>
        network.Policies.Any(p => p.Id != except && string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
            ? $"A policy named '{name}' already exists in network '{network.Name}'."
            : null;

    /// <summary>A side must name someone, and only groups and peers of this network.</summary>
    public static string? Targets(string field, PolicyTargetsRequest? targets, Network network)
    {
        if (targets is null || ((targets.Groups?.Count ?? 0) == 0 && (targets.Peers?.Count ?? 0) == 0))
            return $"{field} must name at least one group or peer: {{\"groups\": [...], \"peers\": [...]}}.";
        var unknown = new[]
        {
            GroupRules.UnknownGroups(network, targets.Groups ?? []) is { } g ? $"{field}.groups names ids that are {g}" : null,
            GroupRules.UnknownPeers(network, targets.Peers ?? []) is { } p ? $"{field}.peers names ids that are {p}" : null,
        }.OfType<string>().ToList();
        return unknown.Count == 0 ? null : string.Join(" ", unknown);
    }

    public static PolicyTargets Canonical(PolicyTargetsRequest targets) =>
        new(GroupRules.Canonical(targets.Groups), GroupRules.Canonical(targets.Peers));

    /// <summary>Each a <see cref="PortRange"/> rule; at most <see cref="MaxPorts"/>. Empty (or absent) means every protocol and port.</summary>
    public static string? Ports(IReadOnlyList<string>? ports)
    {
        if (ports is null) return null;
        if (ports.Count > MaxPorts) return $"ports takes at most {MaxPorts} rules.";
        var errors = new List<string>();
        foreach (var text in ports)
            if (!PortRange.TryParse(text, out _, out var error)) errors.Add(error);
        return errors.Count == 0 ? null : string.Join(" ", errors);
    }

    /// <summary>Canonical texts, each once, in <see cref="PortRange"/> order.</summary>
    public static ImmutableArray<string> CanonicalPorts(IReadOnlyList<string>? ports) =>
        [.. (ports ?? []).Select(t => PortRange.TryParse(t, out var r, out _) ? r : (PortRange?)null).OfType<PortRange>()
            .Distinct().Order().Select(r => r.ToString())];
}
