using Marten;
using Wirety.Events.Tokens;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Networks;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Policies;

public static class PolicyQueries
{
    [RequiresRole(ApiTokenRole.Viewer)]
    [WolverineGet("/api/v1/networks/{networkId}/policies")]
    public static async Task<IResult> List(Guid networkId, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<Network>(networkId, ct) is { } network
            ? Results.Ok(network.Policies.Select(p => PolicyView.Of(network, p)).ToList())
            : NetworkLookup.Missing(networkId).ToResult();

    [RequiresRole(ApiTokenRole.Viewer)]
    [WolverineGet("/api/v1/networks/{networkId}/policies/{policyId}")]
    public static async Task<IResult> Get(Guid networkId, Guid policyId, IQuerySession session, CancellationToken ct)
    {
        var network = await session.LoadAsync<Network>(networkId, ct);
        return network?.FindPolicy(policyId) is { } policy
            ? Results.Ok(PolicyView.Of(network, policy))
            : PolicyLookup.Missing(network, networkId, policyId).ToResult();
    }
}
