using Marten;
using Wirety.Events.Tokens;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Networks;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Groups;

public static class GroupQueries
{
    [RequiresRole(ApiTokenRole.Viewer)]
    [WolverineGet("/api/v1/networks/{networkId}/groups")]
    public static async Task<IResult> List(Guid networkId, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<Network>(networkId, ct) is { } network
            ? Results.Ok(network.Groups.Select(g => GroupView.Of(network, g)).ToList())
            : NetworkLookup.Missing(networkId).ToResult();

    [RequiresRole(ApiTokenRole.Viewer)]
    [WolverineGet("/api/v1/networks/{networkId}/groups/{groupId}")]
    public static async Task<IResult> Get(Guid networkId, Guid groupId, IQuerySession session, CancellationToken ct)
    {
        var network = await session.LoadAsync<Network>(networkId, ct);
        return network?.FindGroup(groupId) is { } group
            ? Results.Ok(GroupView.Of(network, group))
            : GroupLookup.Missing(network, networkId, groupId).ToResult();
    }
}
