using Marten;
using Wirety.Events.Tokens;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Networks;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Routes;

public static class RouteQueries
{
    [RequiresRole(ApiTokenRole.Viewer)]
    [WolverineGet("/api/v1/networks/{networkId}/routes")]
    public static async Task<IResult> List(Guid networkId, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<Network>(networkId, ct) is { } network
            ? Results.Ok(network.Routes.Select(r => RouteView.Of(network, r)).ToList())
            : NetworkLookup.Missing(networkId).ToResult();

    [RequiresRole(ApiTokenRole.Viewer)]
    [WolverineGet("/api/v1/networks/{networkId}/routes/{routeId}")]
    public static async Task<IResult> Get(Guid networkId, Guid routeId, IQuerySession session, CancellationToken ct)
    {
        var network = await session.LoadAsync<Network>(networkId, ct);
        return network?.FindRoute(routeId) is { } route
            ? Results.Ok(RouteView.Of(network, route))
            : RouteLookup.Missing(network, networkId, routeId).ToResult();
    }
}
