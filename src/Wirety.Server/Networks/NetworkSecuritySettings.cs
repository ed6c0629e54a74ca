using System.Security.Claims;
using Marten;
using Wirety.Events;
using Wirety.Events.Networks;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Networks;

/// <summary>Windows are <c>hh:mm:ss</c> (or <c>d.hh:mm:ss</c>); absent fields keep their current value.</summary>
public sealed record NetworkSecurityRequest(
    bool? Enabled, TimeSpan? SessionConflictWindow, int? SharedConfigFlips, TimeSpan? SharedConfigWindow, int? MaxEndpointChangesPerDay);

public static class NetworkSecuritySettings
{
    public static readonly TimeSpan MinWindow = TimeSpan.FromMinutes(1), MaxWindow = TimeSpan.FromHours(24);
    public const int MinCount = 1, MaxCount = 1000;

    /// <returns>The event, or null when nothing changes.</returns>
    public static Decision<NetworkSecurityChanged?> Decide(NetworkSecurityRequest request, Network network, Actor actor, DateTimeOffset now)
    {
        static string? Window(TimeSpan? w, string name) => w is { } v && (v < MinWindow || v > MaxWindow)
            ? $"{name} must be between 00:01:00 and 24:00:00." : null;
        static string? Count(int? c, string name) => c is < MinCount or > MaxCount ? $"{name} must be between {MinCount} and {MaxCount}." : null;
        var errors = new ValidationErrors()
            .Check("sessionConflictWindow", Window(request.SessionConflictWindow, "sessionConflictWindow"))
            .Check("sharedConfigWindow", Window(request.SharedConfigWindow, "sharedConfigWindow"))
            .Check("sharedConfigFlips", Count(request.SharedConfigFlips, "sharedConfigFlips"))
            .Check("maxEndpointChangesPerDay", Count(request.MaxEndpointChangesPerDay, "maxEndpointChangesPerDay"));
        if (errors.Any) return errors.ToRejection();

        var current = network.Security;
        var next = new NetworkSecurity(request.Enabled ?? current.Enabled, request.SessionConflictWindow ?? current.SessionConflictWindow,
            request.SharedConfigFlips ?? current.SharedConfigFlips, request.SharedConfigWindow ?? current.SharedConfigWindow,
            request.MaxEndpointChangesPerDay ?? current.MaxEndpointChangesPerDay);
        return next == current
            ? new Decision<NetworkSecurityChanged?>(null, null)
            : new NetworkSecurityChanged(network.Id, next.Enabled, next.SessionConflictWindow, next.SharedConfigFlips,
                next.SharedConfigWindow, next.MaxEndpointChangesPerDay, actor, now);
    }

    [WolverineGet("/api/v1/networks/{networkId}/security")]
    public static async Task<IResult> Get(Guid networkId, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<Network>(networkId, ct) is { } network
            ? Results.Ok(network.Security)
            : NetworkLookup.Missing(networkId).ToResult();

    [WolverinePut("/api/v1/networks/{networkId}/security")]
    public static async Task<IResult> Put(
        Guid networkId, NetworkSecurityRequest? request, IDocumentSession session, ClaimsPrincipal user, TimeProvider clock, CancellationToken ct)
    {
        if (request is null) return Rejection.MissingBody().ToResult();
        var stream = await session.Events.FetchForExclusiveWriting<Network>(networkId, ct);
        if (stream.Aggregate is not { } network) return NetworkLookup.Missing(networkId).ToResult();

        var decision = Decide(request, network, user.ToActor(), clock.GetUtcNow());
        if (decision.Rejected is { } rejected) return rejected.ToResult();
        if (decision.Value is { } changed)
        {
            stream.AppendOne(changed);
            await session.SaveChangesAsync(ct);
            network = NetworkEvolution.Evolve(network, changed)!;
        }
        return Results.Ok(network.Security);
    }
}
