using Wirety.Events.Tokens;

namespace Wirety.Server.Auth.Oidc;

/// <summary>The grant a role map gives a set of groups: a role, limited to networks (null: every network).</summary>
public sealed record MappedGrant(ApiTokenRole Role, IReadOnlyList<Guid>? NetworkIds);

/// <summary>
/// <c>WIRETY_OIDC_ROLE_MAP</c>: identity-provider groups to Wirety roles, <c>group=role[@networkId[,networkId...]]</c>
/// entries separated by <c>;</c>, e.g. <c>wirety-admins=admin;corp-ops=analyst@0190...,0190...;staff=viewer</c>. Group
/// names match exactly (case-sensitive). The highest role any of the user's groups maps to wins (admin &gt; analyst &gt;
/// viewer); its networks are the union of the entries that give that role, and every network when one of them names none.
/// </summary>
public sealed class RoleMap
{
    private readonly IReadOnlyList<(string Group, ApiTokenRole Role, IReadOnlyList<Guid>? Networks)> _entries;

    private RoleMap(IReadOnlyList<(string, ApiTokenRole, IReadOnlyList<Guid>?)> entries) => _entries = entries;

    public bool IsEmpty => _entries.Count == 0;

    /// <summary>Parses the setting; a malformed one stops the server at start with the reason (never a silent partial map).</summary>
    public static RoleMap Parse(string? text)
    {
        var entries = new List<(string, ApiTokenRole, IReadOnlyList<Guid>?)>();
        foreach (var raw in (text ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = raw.LastIndexOf('=');
            if (eq <= 0) throw Invalid(raw, "expected group=role");
            var group = raw[..eq].Trim();
            var rest = raw[(eq + 1)..].Trim();
            var at = rest.IndexOf('@');
            var roleText = at < 0 ? rest : rest[..at];
            var role = roleText.Trim() switch
            {
                "admin" => ApiTokenRole.Admin,
                "analyst" => ApiTokenRole.Analyst,
                "viewer" => ApiTokenRole.Viewer,
                _ => throw Invalid(raw, "the role must be admin, analyst or viewer"),
            };
            List<Guid>? networks = null;
            if (at >= 0)
            {
                networks = [];
                foreach (var id in rest[(at + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    networks.Add(Guid.TryParse(id, out var g) && g != Guid.Empty ? g : throw Invalid(raw, $"'{id}' is not a network id"));
                if (networks.Count == 0) throw Invalid(raw, "name at least one network id after @");
            }
            entries.Add((group, role, networks));
        }
        return new RoleMap(entries);
    }

    private static InvalidOperationException Invalid(string entry, string why) =>
        new($"WIRETY_OIDC_ROLE_MAP entry '{entry}' is not valid: {why} (format: group=role[@networkId[,networkId...]];group2=role).");

    /// <summary>The grant for <paramref name="groups"/>, or null when none of them is mapped.</summary>
    public MappedGrant? GrantFor(IEnumerable<string> groups)
    {
        var set = groups.ToHashSet(StringComparer.Ordinal);
        var matching = _entries.Where(e => set.Contains(e.Group)).ToList();
        if (matching.Count == 0) return null;
        var best = matching.Min(e => e.Role); // Admin = 0 < Analyst < Viewer
        var top = matching.Where(e => e.Role == best).ToList();
        return new MappedGrant(best, top.Any(e => e.Networks is null) ? null : top.SelectMany(e => e.Networks!).Distinct().ToList());
    }
}
