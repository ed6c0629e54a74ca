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

/// <summary><c>intervalDays</c>: 1..3650, or null to turn scheduled rotation off.</summary>
public sealed record KeyRotationRequest(int? IntervalDays);

/// <summary>The network's key rotation setting; <c>intervalDays</c> null: off.</summary>
public sealed record KeyRotationSetting(int? IntervalDays);

/// <summary>
/// Sets how often the agents of a network make a new key pair. Agents read the interval from their config
/// (<c>keyRotationDays</c>) and rotate through <c>POST /api/v1/agent/rotate-key</c>; static peers are not affected
/// (their key is in a downloaded file). Setting the value it already has is a no-op.
/// </summary>
public static class SetKeyRotationInterval
{
    public const int MinDays = 1, MaxDays = 3650;

    public static ProblemDetails Validate(KeyRotationRequest? request, Network? network, Guid networkId)
    {
        if (request is null) return ApiProblems.MissingBody();
        if (network is null) return NetworkLookup.Missing(networkId);
        return request.IntervalDays is < MinDays or > MaxDays
            ? new ValidationErrors().Check("intervalDays", $"intervalDays must be between {MinDays} and {MaxDays}, or null to turn rotation off.").ToProblem()
            : ApiProblems.None;
    }

    [RequiresRole(ApiTokenRole.Admin)]
    [WolverinePut("/api/v1/networks/{networkId}/key-rotation")]
    public static (IResult, Events) Put(
        KeyRotationRequest request, [WriteAggregate(Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] Network network,
        ClaimsPrincipal user, TimeProvider clock)
    {
        var setting = new KeyRotationSetting(request.IntervalDays);
        if (request.IntervalDays == network.KeyRotationDays) return (Results.Ok(setting), []);
        return (Results.Ok(setting), [new KeyRotationIntervalChanged(network.Id, request.IntervalDays, user.ToActor(), clock.GetUtcNow())]);
    }
}
