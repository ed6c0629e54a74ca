using Marten;
using Wirety.Events;
using Wirety.Events.Tokens;
using Wirety.Projections.Tokens;
using Wirety.Server.Auth;

namespace Wirety.Server.Operations;

/// <summary>
/// <c>wirety-server tokens issue-admin</c>: recovery when no usable admin token is left (all expired, or the
/// bootstrap token lost). Whoever can reach the database can already do anything, so this gives away nothing:
/// it appends an <see cref="ApiTokenIssued"/> with the admin role, as <c>POST /api/v1/tokens</c> would, and the
/// token works on every running instance at once (nothing caches an unknown token).
/// </summary>
internal static class IssueAdminTokenCommand
{
    /// <summary>The actor recorded on the event: an operator at the database, not any API token.</summary>
    public static readonly Actor Operator = new(Guid.Empty, "operator (wirety-server tokens issue-admin)");

    public static async Task<(Guid Id, string Value)> RunAsync(IDocumentStore store, string name, DateTimeOffset? expiresAt,
        TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var id = Guid.CreateVersion7(now);
        var value = TokenSecrets.New(TokenSecrets.ApiTokenPrefix);
        await using var session = store.LightweightSession();
        session.Events.StartStream<ApiToken>(id, new ApiTokenIssued(id, name, TokenSecrets.Hash(value), expiresAt, false, Operator, now, ApiTokenRole.Admin));
        await session.SaveChangesAsync(ct);
        return (id, value);
    }
}
