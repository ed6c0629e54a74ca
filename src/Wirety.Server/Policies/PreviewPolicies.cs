using System.Security.Claims;
using Marten;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events;
using Wirety.Events.Segmentation;
using Wirety.Events.Tokens;
using Wirety.Projections.Configs;
using Wirety.Projections.Networks;
using Wirety.Projections.Segmentation;
using Wirety.Server.Auth;
using Wirety.Server.Networks;
using Wirety.Server.Problems;
using Wirety.Server.Reachability;
using Wolverine.Http;

namespace Wirety.Server.Policies;

/// <summary>A change to one existing policy in a preview: its id and the fields of a PATCH.</summary>
public sealed record PolicyPreviewUpdate(
    Guid? Id, string? Name, string? Description, PolicyTargetsRequest? Sources, PolicyTargetsRequest? Destinations, IReadOnlyList<string>? Ports)
{
    public UpdatePolicyRequest AsPatch() => new(Name, Description, Sources, Destinations, Ports);
}

/// <summary>What-if: policies to remove, update and add, and a default policy, applied in that order.</summary>
public sealed record PreviewPoliciesRequest(
    IReadOnlyList<CreatePolicyRequest?>? Add, IReadOnlyList<Guid>? Remove, IReadOnlyList<PolicyPreviewUpdate?>? Update, string? DefaultPolicy);

/// <summary>
/// <c>gained</c>: pairs that may open more than before (with what they gain); <c>lost</c>: pairs that may open
/// less (with what they lose); <c>configsChanged</c>: how many peers' configs would change. Each list holds at
/// most <see cref="PreviewPolicies.MaxPairs"/> pairs; <c>truncated</c> says one was cut.
/// </summary>
public sealed record PolicyPreviewView(IReadOnlyList<PairView> Gained, IReadOnlyList<PairView> Lost, int ConfigsChanged, bool Truncated);

/// <summary>
/// <c>POST /api/v1/networks/{id}/policies/preview</c>: what a set of policy changes would do, without doing it.
/// Each item is validated exactly as the real create, update or delete validates it (the same functions,
/// against the network as the items before it leave it), the events those would append are folded into the
/// current network with <see cref="NetworkEvolution"/>, and <see cref="AccessRules"/> before and after are
/// compared pair by pair. Appends nothing.
/// </summary>
public static class PreviewPolicies
{
    public const int MaxPairs = 1000, MaxItems = 200;

    public static Task<Network?> LoadAsync(Guid networkId, IQuerySession session, CancellationToken ct) =>
        session.LoadAsync<Network>(networkId, ct);

    public static ProblemDetails Validate(PreviewPoliciesRequest? request, Network? network, Guid networkId, ClaimsPrincipal user, TimeProvider clock)
    {
        if (request is null) return ApiProblems.MissingBody();
        if (network is null) return NetworkLookup.Missing(networkId);
        return Apply(request, network, user.ToActor(), clock.GetUtcNow()).Problem;
    }

    [RequiresRole(ApiTokenRole.Admin)]
    [WolverinePost("/api/v1/networks/{networkId}/policies/preview")]
    public static IResult Post(PreviewPoliciesRequest request, [NotBody] Network network, ClaimsPrincipal user, TimeProvider clock)
    {
        var after = Apply(request, network, user.ToActor(), clock.GetUtcNow()).After!;
        return Results.Ok(Diff(network, after));
    }

    /// <summary>The network as the request would leave it; or the first refusal, naming the item (<c>add[0]</c>, <c>remove[1]</c>, ...).</summary>
    public static (ProblemDetails Problem, Network? After) Apply(PreviewPoliciesRequest request, Network network, Actor actor, DateTimeOffset now)
    {
        var count = (request.Add?.Count ?? 0) + (request.Remove?.Count ?? 0) + (request.Update?.Count ?? 0);
        if (count > MaxItems) return (ApiProblems.BadRequest($"A preview takes at most {MaxItems} items (add, remove and update together); got {count}."), null);

        var state = network;
        for (var i = 0; i < (request.Remove?.Count ?? 0); i++)
        {
            var id = request.Remove![i];
            var problem = DeletePolicy.Validate(state, state.Id, id);
            if (!Accepted(problem)) return (ForItem($"remove[{i}]", problem), null);
            state = NetworkEvolution.Evolve(state, DeletePolicy.Decide(state, id, actor, now))!;
        }
        for (var i = 0; i < (request.Update?.Count ?? 0); i++)
        {
            var item = request.Update![i];
            if (item?.Id is not { } id) return (ForItem($"update[{i}]", ApiProblems.BadRequest("id is required: the policy to change.")), null);
            var policy = state.FindPolicy(id);
            var problem = UpdatePolicy.Validate(item.AsPatch(), state, policy, state.Id, id);
            if (!Accepted(problem)) return (ForItem($"update[{i}]", problem), null);
            if (UpdatePolicy.Decide(item.AsPatch(), state, policy!, actor, now) is { } updated) state = NetworkEvolution.Evolve(state, updated)!;
        }
        for (var i = 0; i < (request.Add?.Count ?? 0); i++)
        {
            var item = request.Add![i];
            var problem = CreatePolicy.Validate(item, state, state.Id);
            if (!Accepted(problem)) return (ForItem($"add[{i}]", problem), null);
            // Never stored: an id of its own, distinct from every real one.
            state = NetworkEvolution.Evolve(state, CreatePolicy.Decide(item!, state, Guid.NewGuid(), actor, now))!;
        }
        if (request.DefaultPolicy is not null)
        {
            if (NetworkRules.DefaultPolicy(request.DefaultPolicy) is { } error)
                return (new ValidationErrors().Add("defaultPolicy", error).ToProblem(), null);
            NetworkRules.TryParseDefaultPolicy(request.DefaultPolicy, out var policy);
            if (policy != state.DefaultPolicy) state = NetworkEvolution.Evolve(state, new DefaultPolicyChanged(state.Id, policy, actor, now))!;
        }
        return (ApiProblems.None, state);
    }

    /// <summary>Pairs that gain and lose, and the number of configs that change, from <paramref name="before"/> to <paramref name="after"/>.</summary>
    public static PolicyPreviewView Diff(Network before, Network after)
    {
        // Only pairs from a changed policy's sources to its destinations can differ (every pair when the default
        // policy changes), and only their configs, the jumps' and the route peers': an edit of one policy costs
        // what it covers, not N².
        var scope = ConfigImpact.PolicyScope(before, after);
        var old = AccessRules.Of(before);
        var now = AccessRules.Of(after);
        var gained = new List<PairView>();
        var lost = new List<PairView>();
        var truncated = false;
        // Pairs in peer creation order (the peer set does not change).
        var froms = scope is { } s1 ? after.Peers.Where(p => s1.Sources.Contains(p.Id)).ToList() : [.. after.Peers];
        var tos = scope is { } s2 ? after.Peers.Where(p => s2.Destinations.Contains(p.Id)).ToList() : [.. after.Peers];
        foreach (var from in froms)
            foreach (var to in tos)
            {
                if (!AccessRules.PolicyApplies(from, to)) continue;
                var was = old.Allowed(from, to);
                var @is = now.Allowed(from, to);
                if (was.Equals(@is)) continue;
                truncated |= Add(gained, from, to, @is.Except(was));
                truncated |= Add(lost, from, to, was.Except(@is));
            }

        var ids = (scope is { } s3
            ? ConfigImpact.WithForwarders(after, s3.Sources.Union(s3.Destinations))
            : after.Peers.Select(p => p.Id)).ToList();
        var fingerprints = ConfigBuilder.Fingerprints(before, ids).ToDictionary(f => f.PeerId, f => f.Fingerprint);
        var changed = ConfigBuilder.Fingerprints(after, ids).Count(f => fingerprints[f.PeerId] != f.Fingerprint);
        return new PolicyPreviewView(gained, lost, changed, truncated);
    }

    /// <returns>True when the pair had to be left out (the list is full).</returns>
    private static bool Add(List<PairView> list, PeerState from, PeerState to, PortSet ports)
    {
        if (ports.IsEmpty) return false;
        if (list.Count >= MaxPairs) return true;
        list.Add(PairView.Of(from, to, ports));
        return false;
    }

    private static bool Accepted(ProblemDetails problem) => ReferenceEquals(problem, ApiProblems.None);

    /// <summary>
    /// An item's refusal, named: its fields become <c>add[0].name</c>, its detail starts with the item. An
    /// unknown policy id is a 400 here (the resource asked for, the network, exists).
    /// </summary>
    private static ProblemDetails ForItem(string item, ProblemDetails problem)
    {
        var status = problem.Status == 404 ? 400 : problem.Status;
        var title = status == 400 ? ApiProblems.InvalidTitle : problem.Title;
        return problem is HttpValidationProblemDetails v
            ? new HttpValidationProblemDetails(v.Errors.ToDictionary(e => $"{item}.{e.Key}", e => e.Value))
            {
                Status = status, Title = title, Detail = $"{item}: {problem.Detail}",
            }
            : new HttpValidationProblemDetails(new Dictionary<string, string[]> { [item] = [problem.Detail ?? ""] })
            {
                Status = status, Title = title, Detail = $"{item}: {problem.Detail}",
            };
    }
}
