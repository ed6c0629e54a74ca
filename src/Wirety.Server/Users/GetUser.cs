using Marten;
using Wirety.Events.Tokens;
using Wirety.Projections.Users;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Users;

/// <summary><c>GET /api/v1/users/{userId}</c>: one user (admins with a global role).</summary>
public static class GetUser
{
    [RequiresRole(ApiTokenRole.Admin)]
    [WolverineGet("/api/v1/users/{userId}")]
    public static async Task<IResult> Get(Guid userId, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<User>(userId, ct) is { } user
            ? Results.Ok(UserView.Of(user))
            : UserLookup.Missing(userId).ToResult();
}
