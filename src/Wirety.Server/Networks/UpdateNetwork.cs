using System.Security.Claims;
using Marten;
using Wirety.Events;
using Wirety.Events.Addressing;
using Wirety.Events.Networks;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.Networks;

/// <summary>
/// PATCH body: absent (null) fields stay as they are; <c>domain: ""</c>, <c>dns: []</c> and <c>mtu: 0</c>
/// clear a setting. The CIDR cannot change (peers hold addresses from it); naming it unchanged is fine.
/// </summary>
public sealed record UpdateNetworkRequest(string? Name, string? Cidr, string? Domain, IReadOnlyList<string>? Dns, int? Mtu);

public static class UpdateNetwork
{
    /// <returns>The event, or null when nothing changes (a no-op, not an error).</returns>
    public static Decision<NetworkUpdated?> Decide(
        UpdateNetworkRequest request, Network network, IReadOnlyList<Network> others, Actor actor, DateTimeOffset now)
    {
        var errors = new ValidationErrors()
            .Check("name", request.Name is null ? null : NetworkRules.Name(request.Name))
            .Check("domain", NetworkRules.Domain(request.Domain))
            .Check("dns", NetworkRules.Dns(request.Dns))
            .Check("mtu", NetworkRules.Mtu(request.Mtu));
        if (request.Cidr is not null
            && (!Ipv4Cidr.TryParse(request.Cidr, out var cidr, out _) || cidr.ToString() != network.Cidr))
            errors.Add("cidr", $"cidr cannot be changed (it is {network.Cidr}); create a new network instead.");
        if (errors.Any) return errors.ToRejection();

        var name = request.Name ?? network.Name;
        if (others.FirstOrDefault(n => n.Id != network.Id && string.Equals(n.Name, name, StringComparison.OrdinalIgnoreCase)) is { } same)
            return Rejection.Conflict($"A network named '{same.Name}' already exists.");

        var domain = request.Domain is null ? network.Domain : request.Domain is "" ? null : request.Domain;
        IReadOnlyList<string> dns = request.Dns is null ? network.Dns : NetworkRules.CanonicalDns(request.Dns);
        var mtu = request.Mtu is null ? network.Mtu : request.Mtu is 0 ? null : request.Mtu;
        if (name == network.Name && domain == network.Domain && dns.SequenceEqual(network.Dns) && mtu == network.Mtu)
            return new Decision<NetworkUpdated?>(null, null);
        return new NetworkUpdated(network.Id, name, domain, dns, mtu, actor, now);
    }

    [WolverinePatch("/api/v1/networks/{networkId}")]
    public static async Task<IResult> Patch(
        Guid networkId, UpdateNetworkRequest? request, IDocumentSession session, ClaimsPrincipal user, TimeProvider clock,
        CancellationToken ct)
    {
        if (request is null) return Rejection.MissingBody().ToResult();
        await NetworkRegistryLock.AcquireAsync(session, ct);
        var stream = await session.Events.FetchForExclusiveWriting<Network>(networkId, ct);
        if (stream.Aggregate is not { } network) return NetworkLookup.Missing(networkId).ToResult();

        var others = await session.Query<Network>().ToListAsync(ct);
        var decision = Decide(request, network, others, user.ToActor(), clock.GetUtcNow());
        if (decision.Rejected is { } rejected) return rejected.ToResult();
        if (decision.Value is not { } updated) return Results.Ok(NetworkView.Of(network));

        stream.AppendOne(updated);
        await session.SaveChangesAsync(ct);
        return Results.Ok(NetworkView.Of(NetworkEvolution.Evolve(network, updated)! with { Version = network.Version + 1 }));
    }
}
