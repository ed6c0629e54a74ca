using JasperFx.Events;
using Marten.Events.Aggregation;
using Wirety.Events;
using Wirety.Events.Tokens;

namespace Wirety.Projections.Tokens;

/// <summary>An admin API token as the auth layer needs it. Holds the SHA-256 hash, never the value.</summary>
public sealed record ApiToken
{
    public Guid Id { get; init; }
    public required string Name { get; init; }
    public required string TokenHash { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public bool Bootstrap { get; init; }
    public ApiTokenRole Role { get; init; }
    /// <summary>The networks the role is limited to; null for every network.</summary>
    public IReadOnlyList<Guid>? NetworkIds { get; init; }
    public required Actor CreatedBy { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }

    public bool IsUsableAt(DateTimeOffset now) => RevokedAt is null && (ExpiresAt is null || ExpiresAt > now);
}

public partial class ApiTokenProjection : SingleStreamProjection<ApiToken, Guid>
{
    public ApiTokenProjection()
    {
        IncludeType<ApiTokenIssued>();
        IncludeType<ApiTokenRevoked>();
    }

    public override ApiToken? Evolve(ApiToken? snapshot, Guid id, IEvent e) => (snapshot, e.Data) switch
    {
        (_, ApiTokenIssued i) => new ApiToken
        {
            Id = i.TokenId, Name = i.Name, TokenHash = i.TokenHash, CreatedAt = i.At, ExpiresAt = i.ExpiresAt,
            Bootstrap = i.Bootstrap, CreatedBy = i.Actor, Role = i.Role, NetworkIds = i.NetworkIds,
        },
        (not null, ApiTokenRevoked r) => snapshot with { RevokedAt = snapshot.RevokedAt ?? r.At },
        _ => snapshot,
    };
}
