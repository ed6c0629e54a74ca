using Wirety.Events.Segmentation;
using Wirety.Projections.Networks;

namespace Wirety.Projections.History;

/// <summary>
/// Timeline sentences for groups, policies, routes and the default policy ("admin created policy ssh: group ops →
/// group servers on tcp/22"), naming things as the network called them just before the event.
/// </summary>
internal static class SegmentationSentences
{
    private const int NamesShown = 5;

    /// <summary>The sentence for one event, against the network as it was just before it.</summary>
    public static (string Summary, TimelineSubject Subject)? Describe(object data, Network before)
    {
        var who = Timeline.Who(Timeline.ActorOf(data));
        string Group(Guid id) => before.FindGroup(id)?.Name ?? id.ToString();
        string Peer(Guid id) => before.FindPeer(id)?.Name ?? id.ToString();
        string Policy(Guid id) => before.FindPolicy(id)?.Name ?? id.ToString();
        string Side(PolicyTargets t) => Names(t.Groups.Select(g => "group " + Group(g)).Concat(t.Peers.Select(p => "peer " + Peer(p))), "nobody");
        string Ports(IReadOnlyList<string> ports) => ports.Count == 0 ? "everything" : string.Join(", ", ports);
        return data switch
        {
            DefaultPolicyChanged e => ($"{who} set the default policy of network {before.Name} to {Lower(e.DefaultPolicy)}",
                new TimelineSubject("network", e.NetworkId, before.Name)),
            GroupCreated e => ($"{who} created group {e.Name}", new TimelineSubject("group", e.GroupId, e.Name)),
            GroupUpdated e => (Group(e.GroupId) == e.Name ? $"{who} updated group {e.Name}" : $"{who} renamed group {Group(e.GroupId)} to {e.Name}",
                new TimelineSubject("group", e.GroupId, e.Name)),
            GroupMembersSet e => ($"{who} set the members of group {Group(e.GroupId)}: {Names(e.PeerIds.Select(Peer), "none")}",
                new TimelineSubject("group", e.GroupId, Group(e.GroupId))),
            GroupDeleted e => ($"{who} deleted group {Group(e.GroupId)}", new TimelineSubject("group", e.GroupId, Group(e.GroupId))),
            PolicyCreated e => ($"{who} created policy {e.Name}: {Side(e.Sources)} → {Side(e.Destinations)} on {Ports(e.Ports)}",
                new TimelineSubject("policy", e.PolicyId, e.Name)),
            PolicyUpdated e => ($"{who} updated policy {e.Name}: {Side(e.Sources)} → {Side(e.Destinations)} on {Ports(e.Ports)}",
                new TimelineSubject("policy", e.PolicyId, e.Name)),
            PolicyDeleted e => ($"{who} deleted policy {Policy(e.PolicyId)}", new TimelineSubject("policy", e.PolicyId, Policy(e.PolicyId))),
            RouteAdded e => (e.Cidr == "0.0.0.0/0"
                    ? $"{who} made peer {Peer(e.ViaPeerId)} an exit node (0.0.0.0/0)" + OfferedTo(e.Groups, Group)
                    : $"{who} added route {e.Cidr} via peer {Peer(e.ViaPeerId)}" + OfferedTo(e.Groups, Group),
                new TimelineSubject("route", e.RouteId, $"{e.Cidr} via {Peer(e.ViaPeerId)}")),
            RouteRemoved e => before.FindRoute(e.RouteId) is { } r
                ? ($"{who} removed route {r.Cidr} via peer {Peer(r.ViaPeerId)}", new TimelineSubject("route", e.RouteId, $"{r.Cidr} via {Peer(r.ViaPeerId)}"))
                : ($"{who} removed route {e.RouteId}", new TimelineSubject("route", e.RouteId, e.RouteId.ToString())),
            _ => null,
        };
    }

    private static string OfferedTo(IReadOnlyList<Guid> groups, Func<Guid, string> name) =>
        groups.Count == 0 ? "" : " for " + Names(groups.Select(g => "group " + name(g)), "");

    private static string Names(IEnumerable<string> names, string none)
    {
        var all = names.ToList();
        if (all.Count == 0) return none;
        return all.Count <= NamesShown ? string.Join(", ", all) : string.Join(", ", all.Take(NamesShown)) + $" and {all.Count - NamesShown} more";
    }

    private static string Lower(DefaultPolicy policy) => policy == DefaultPolicy.Deny ? "deny" : "allow";
}
