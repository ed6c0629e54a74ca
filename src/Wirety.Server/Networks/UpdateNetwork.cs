using System.Security.Claims;
using Marten;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events.Addressing;
using Wirety.Events;
using Wirety.Events.Networks;
using Wirety.Events.Segmentation;
using Wirety.Projections.Networks;
using Wirety.Server.Auth;
using Wirety.Server.Problems;
using Wolverine.Http;
using Wolverine.Marten;

namespace Wirety.Server.Networks;

using Events = Wolverine.Marten.Events;
using Wirety.Events.Tokens;

/// <summary>
/// PATCH body: absent (null) fields stay as they are; <c>domain: ""</c>, <c>dns: []</c> and <c>mtu: 0</c>
/// clear a setting. The CIDR cannot change (peers hold addresses from it); naming it unchanged is fine.
/// <c>defaultPolicy</c>: <c>allow</c> (the flat mesh) or <c>deny</c> (only what policies allow).
/// <c>allowDnsEndpoints</c>: whether agents' reported and static peers' declared endpoints may be DNS names
/// (default false: IP addresses only); endpoints already stored stay as they are either way.
/// </summary>
public sealed record UpdateNetworkRequest(string? Name, string? Cidr, string? Domain, IReadOnlyList<string>? Dns, int? Mtu)
{
    public string? DefaultPolicy { get; init; }
    public bool? AllowDnsEndpoints { get; init; }
}

/// <summary>Renames or reconfigures a network; a request that changes nothing is a no-op, not an error.</summary>
public static class UpdateNetwork
{
    /// <summary>Names are unique across networks: every network, read under the registry lock.</summary>
    public static async Task<IReadOnlyList<Network>> LoadAsync(IDocumentSession session, CancellationToken ct)
    {
        await NetworkRegistryLock.AcquireAsync(session, ct);
        return await session.Query<Network>().ToListAsync(ct);
    }

    public static ProblemDetails Validate(UpdateNetworkRequest? request, Network? network, IReadOnlyList<Network> others, Guid networkId)
    {
        if (request is null) return ApiProblems.MissingBody();
        if (network is null) return NetworkLookup.Missing(networkId);
        var errors = new ValidationErrors()
            .Check("name", request.Name is null ? null : NetworkRules.Name(request.Name))
            .Check("domain", NetworkRules.Domain(request.Domain))
            .Check("dns", NetworkRules.Dns(request.Dns))
            .Check("mtu", NetworkRules.Mtu(request.Mtu))
            .Check("defaultPolicy", NetworkRules.DefaultPolicy(request.DefaultPolicy));
        if (request.Cidr is not null
            && (!Ipv4Cidr.TryParse(request.Cidr, out var cidr, out _) || cidr.ToString() != network.Cidr))
            errors.Add("cidr", $"cidr cannot be changed (it is {network.Cidr}); create a new network instead.");
        if (errors.Any) return errors.ToProblem();

        var name = request.Name ?? network.Name;
        return others.FirstOrDefault(n => n.Id != network.Id && string.Equals(n.Name, name, StringComparison.OrdinalIgnoreCase)) is { } same
            ? ApiProblems.Conflict($"A network named '{same.Name}' already exists.")
            : ApiProblems.None;
    }

    [RequiresRole(ApiTokenRole.Admin)]
    [WolverinePatch("/api/v1/networks/{networkId}")]
    public static (IResult, Events) Patch(
        UpdateNetworkRequest request, [WriteAggregate(Required = false, LoadStyle = ConcurrencyStyle.Exclusive)] Network network,
        ClaimsPrincipal user, TimeProvider clock)
    {
        var name = request.Name ?? network.Name;
        var domain = request.Domain is null ? network.Domain : request.Domain is "" ? null : request.Domain;
        IReadOnlyList<string> dns = request.Dns is null ? network.Dns : NetworkRules.CanonicalDns(request.Dns);
        var mtu = request.Mtu is null ? network.Mtu : request.Mtu is 0 ? null : request.Mtu;
        var events = new List<object>();
        if (name != network.Name || domain != network.Domain || !dns.SequenceEqual(network.Dns) || mtu != network.Mtu)
            events.Add(new NetworkUpdated(network.Id, name, domain, dns, mtu, user.ToActor(), clock.GetUtcNow()));
        if (NetworkRules.TryParseDefaultPolicy(request.DefaultPolicy, out var policy) && policy != network.DefaultPolicy)
            events.Add(new DefaultPolicyChanged(network.Id, policy, user.ToActor(), clock.GetUtcNow()));
        if (request.AllowDnsEndpoints is { } allowDns && allowDns != network.AllowDnsEndpoints)
            events.Add(new DnsEndpointsAllowanceChanged(network.Id, allowDns, user.ToActor(), clock.GetUtcNow()));
        if (events.Count == 0) return (Results.Ok(NetworkView.Of(network)), []);

        // An update leaves the network (only a NetworkDeleted ends it), one version on per event.
        var after = NetworkEvolution.Evolve(network, events)! with { Version = network.Version + events.Count };
        return (Results.Ok(NetworkView.Of(after)), [.. events]);
    }
}
