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

public sealed record CreateNetworkRequest(string? Name, string? Cidr, string? Domain, IReadOnlyList<string>? Dns, int? Mtu);

public static class CreateNetwork
{
    /// <summary>IPv4 prefix lengths a mesh network may use.</summary>
    public const int MinPrefix = 8, MaxPrefix = 30;

    public static Decision<NetworkCreated> Decide(
        CreateNetworkRequest request, IReadOnlyList<Network> existing, Guid id, Actor actor, DateTimeOffset now)
    {
        var errors = new ValidationErrors()
            .Check("name", NetworkRules.Name(request.Name))
            .Check("domain", NetworkRules.Domain(request.Domain))
            .Check("dns", NetworkRules.Dns(request.Dns))
            .Check("mtu", NetworkRules.Mtu(request.Mtu));
        Ipv4Cidr cidr = default;
        if (request.Cidr is null) errors.Add("cidr", "cidr is required, e.g. 10.10.0.0/24.");
        else if (!Ipv4Cidr.TryParse(request.Cidr, out cidr, out var cidrError)) errors.Add("cidr", cidrError);
        else if (cidr.PrefixLength is < MinPrefix or > MaxPrefix)
            errors.Add("cidr", $"cidr prefix must be between /{MinPrefix} and /{MaxPrefix}; got /{cidr.PrefixLength}.");
        if (errors.Any) return errors.ToRejection();

        if (existing.FirstOrDefault(n => string.Equals(n.Name, request.Name, StringComparison.OrdinalIgnoreCase)) is { } same)
            return Rejection.Conflict($"A network named '{same.Name}' already exists.");
        if (existing.FirstOrDefault(n => Ipv4Cidr.Parse(n.Cidr).Overlaps(cidr)) is { } overlapping)
            return Rejection.Conflict($"{cidr} overlaps network '{overlapping.Name}' ({overlapping.Cidr}).");

        return new NetworkCreated(id, request.Name!, cidr.ToString(), request.Domain is "" ? null : request.Domain,
            NetworkRules.CanonicalDns(request.Dns), request.Mtu is 0 ? null : request.Mtu, actor, now);
    }

    [WolverinePost("/api/v1/networks")]
    public static async Task<IResult> Post(
        CreateNetworkRequest? request, IDocumentSession session, ClaimsPrincipal user, TimeProvider clock, CancellationToken ct)
    {
        if (request is null) return Rejection.MissingBody().ToResult();
        await NetworkRegistryLock.AcquireAsync(session, ct);
        var existing = await session.Query<Network>().ToListAsync(ct);
        var now = clock.GetUtcNow();
        var decision = Decide(request, existing, Guid.CreateVersion7(now), user.ToActor(), now);
        if (decision.Rejected is { } rejected) return rejected.ToResult();

        var created = decision.Value!;
        session.Events.StartStream<Network>(created.NetworkId, created);
        await session.SaveChangesAsync(ct);
        var network = NetworkEvolution.Evolve(null, created)! with { Version = 1 };
        return Results.Created($"/api/v1/networks/{created.NetworkId}", NetworkView.Of(network));
    }
}
