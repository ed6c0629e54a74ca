using Marten;
using Wirety.Projections.Networks;

namespace Wirety.Server.Networks;

/// <summary>Which of the networks a request names exist.</summary>
public sealed record ExistingNetworks(IReadOnlySet<Guid> Ids)
{
    /// <summary>The most networks one role (of a token or a person) may be limited to.</summary>
    public const int Max = 100;

    public static async Task<ExistingNetworks> LoadAsync(IReadOnlyList<Guid>? requested, IQuerySession session, CancellationToken ct)
    {
        if (requested is not { Count: > 0 and <= Max }) return new(new HashSet<Guid>()); // Check refuses the rest
        var wanted = requested.Distinct().ToArray();
        var found = await session.Query<Network>().Where(n => n.Id.IsOneOf(wanted)).Select(n => n.Id).ToListAsync(ct);
        return new(found.ToHashSet());
    }

    /// <summary>
    /// The 400 message for a role's <c>networkIds</c>: empty, too many, an id that is not a network, or one named twice;
    /// null when the list (if any) is good. Absent (null) means every network.
    /// </summary>
    public string? Check(IReadOnlyList<Guid>? requested)
    {
        if (requested is null) return null;
        if (requested.Count == 0) return "networkIds must name at least one network; leave it out (null) for every network.";
        if (requested.Count > Max) return $"networkIds may name at most {Max} networks.";
        var unknown = requested.Select((id, i) => (id, i)).Where(x => !Ids.Contains(x.id)).Select(x => $"networkIds[{x.i}] ({x.id})").ToList();
        if (unknown.Count > 0) return $"{string.Join(", ", unknown)} {(unknown.Count == 1 ? "names no network" : "name no network")}.";
        return requested.Distinct().Count() != requested.Count ? "networkIds names a network twice." : null;
    }
}
