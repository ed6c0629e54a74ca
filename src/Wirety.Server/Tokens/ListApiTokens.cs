using Marten;
using Wirety.Events.Tokens;
using Wirety.Projections.Tokens;
using Wirety.Server.Auth;
using Wolverine.Http;

namespace Wirety.Server.Tokens;

/// <summary>A token as listed: never its value or hash.</summary>
public sealed record ApiTokenView(
    Guid Id, string Name, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt,
    bool Bootstrap, string CreatedBy, ApiTokenRole Role, IReadOnlyList<Guid>? NetworkIds)
{
    public static ApiTokenView Of(ApiToken t) =>
        new(t.Id, t.Name, t.CreatedAt, t.ExpiresAt, t.RevokedAt, t.Bootstrap, t.CreatedBy.Name, t.Role, t.NetworkIds);
}

public static class ListApiTokens
{
    [RequiresRole(ApiTokenRole.Admin), Scoped(ScopeRule.EveryNetworkOnly)]
    [WolverineGet("/api/v1/tokens")]
    public static async Task<IReadOnlyList<ApiTokenView>> Get(IQuerySession session, CancellationToken ct) =>
        (await session.Query<ApiToken>().OrderBy(t => t.CreatedAt).ToListAsync(ct)).Select(ApiTokenView.Of).ToList();
}
