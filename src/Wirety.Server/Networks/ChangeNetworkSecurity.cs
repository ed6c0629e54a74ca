using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events.Networks;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;
using Wolverine.Marten;

namespace Wirety.Server.Networks;

using Events = Wolverine.Marten.Events;
using Wirety.Events.Tokens;

/// <summary>Windows are <c>hh:mm:ss</c> (or <c>d.hh:mm:ss</c>); absent fields keep their current value.</summary>
public sealed record NetworkSecurityRequest(
    bool? Enabled, TimeSpan? SessionConflictWindow, int? SharedConfigFlips, TimeSpan? SharedConfigWindow, int? MaxEndpointChangesPerDay);

/// <summary>Changes the network's incident detection settings; a request that changes nothing is a no-op.</summary>
public static class ChangeNetworkSecurity
{
    public static readonly TimeSpan MinWindow = TimeSpan.FromMinutes(1), MaxWindow = TimeSpan.FromHours(24);
    public const int MinCount = 1, MaxCount = 1000;

    public static ProblemDetails Validate(NetworkSecurityRequest? request, Network? network, Guid networkId)
    {
        if (request is null) return ApiProblems.MissingBody();
        if (network is null) return NetworkLookup.Missing(networkId);
        static string? Window(TimeSpan? w, string name) => w is { } v && (v < MinWindow || v > MaxWindow)
            ? $"{name} must be between 00:01:00 and 24:00:00." : null;
        static string? Count(int? c, string name) => c is < MinCount or > MaxCount ? $"{name} must be between {MinCount} and {MaxCount}." : null;
        var errors = new ValidationErrors()
            .Check("sessionConflictWindow", Window(request.SessionConflictWindow, "sessionConflictWindow"))
            .Check("sharedConfigWindow", Window(request.SharedConfigWindow, "sharedConfigWindow"))
            .Check("sharedConfigFlips", Count(request.SharedConfigFlips, "sharedConfigFlips"))
            .Check("maxEndpointChangesPerDay", Count(request.MaxEndpointChangesPerDay, "maxEndpointChangesPerDay"));
        return errors.Any ? errors.ToProblem() : ApiProblems.None;
    }

    [RequiresRole(ApiTokenRole.Admin)]
    [WolverinePut("/api/v1/networks/{networkId}/security")]
    public static (IResult, Events) Put(
        NetworkSecurityRequest request, [WriteAggregate(Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] Network network,
        ClaimsPrincipal user, TimeProvider clock)
    {
        var current = network.Security;
        var next = new NetworkSecurity(request.Enabled ?? current.Enabled, request.SessionConflictWindow ?? current.SessionConflictWindow,
            request.SharedConfigFlips ?? current.SharedConfigFlips, request.SharedConfigWindow ?? current.SharedConfigWindow,
            request.MaxEndpointChangesPerDay ?? current.MaxEndpointChangesPerDay);
        if (next == current) return (Results.Ok(current), []);

        var changed = new NetworkSecurityChanged(network.Id, next.Enabled, next.SessionConflictWindow, next.SharedConfigFlips,
            next.SharedConfigWindow, next.MaxEndpointChangesPerDay, user.ToActor(), clock.GetUtcNow());
        return (Results.Ok(next), [changed]);
    }
}
