using System.Security.Claims;
using Marten;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events.Addressing;
using Wirety.Events.Networks;
using Wirety.Events.Tokens;
using Wirety.Events;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;
using Wolverine.Marten;

namespace Wirety.Server.Networks;

public sealed record CreateNetworkRequest(string? Name, string? Cidr, string? Domain, IReadOnlyList<string>? Dns, int? Mtu);

public static class CreateNetwork
{
    /// <summary>IPv4 prefix lengths a mesh network may use.</summary>
    public const int MinPrefix = 8, MaxPrefix = 30;

    /// <summary>Names and CIDRs are unique across networks: every network, read under the registry lock.</summary>
    public static async Task<IReadOnlyList<Network>> LoadAsync(IDocumentSession session, CancellationToken ct)
    {
        await NetworkRegistryLock.AcquireAsync(session, ct);
        return await session.Query<Network>().ToListAsync(ct);
    }

    public static ProblemDetails Validate(CreateNetworkRequest? request, IReadOnlyList<Network> existing)
    {
        if (request is null) return ApiProblems.MissingBody();
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
        if (errors.Any) return errors.ToProblem();

        if (existing.FirstOrDefault(n => string.Equals(n.Name, request.Name, StringComparison.OrdinalIgnoreCase)) is { } same)
            return ApiProblems.Conflict($"A network named '{same.Name}' already exists.");
        if (existing.FirstOrDefault(n => Ipv4Cidr.Parse(n.Cidr).Overlaps(cidr)) is { } overlapping)
            return ApiProblems.Conflict($"{cidr} overlaps network '{overlapping.Name}' ({overlapping.Cidr}).");
        return ApiProblems.None;
    }

    [RequiresRole(ApiTokenRole.Admin), Scoped(ScopeRule.EveryNetworkOnly)]
    [WolverinePost("/api/v1/networks")]
    public static (IResult, IStartStream) Post(CreateNetworkRequest request, ClaimsPrincipal user, TimeProvider clock)
    {
        var now = clock.GetUtcNow();
        var created = new NetworkCreated(Guid.CreateVersion7(now), request.Name!, Ipv4Cidr.Parse(request.Cidr!).ToString(),
            request.Domain is "" ? null : request.Domain, NetworkRules.CanonicalDns(request.Dns), request.Mtu is 0 ? null : request.Mtu,
            user.ToActor(), now);
        // The first event of a stream leaves a network at version 1.
        var network = NetworkEvolution.Evolve(null, created)! with { Version = 1 };
        return (Results.Created($"/api/v1/networks/{created.NetworkId}", NetworkView.Of(network)),
            MartenOps.StartStream<Network>(created.NetworkId, created));
    }
}
