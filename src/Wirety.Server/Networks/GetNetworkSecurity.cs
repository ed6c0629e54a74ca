using Marten;
using Wirety.Events.Tokens;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Networks;

/// <summary>The network's incident detection settings (<see cref="ChangeNetworkSecurity"/> changes them).</summary>
public static class GetNetworkSecurity
{
    [RequiresRole(ApiTokenRole.Viewer)]
    [WolverineGet("/api/v1/networks/{networkId}/security")]
    public static async Task<IResult> Get(Guid networkId, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<Network>(networkId, ct) is { } network
            ? Results.Ok(network.Security)
            : NetworkLookup.Missing(networkId).ToResult();
}
