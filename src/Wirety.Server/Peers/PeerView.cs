using System.Text.Json.Serialization;
using Wirety.Events.Peers;
using Wirety.Projections.Networks;
using Wirety.Server.Networks;

namespace Wirety.Server.Peers;

public sealed record PeerView(
    Guid Id, Guid NetworkId, string Name, PeerKind Kind, string Address, string? PublicKey, bool Enrolled,
    string? Endpoint, int? ListenPort, bool Isolated, bool FullEncapsulation, IReadOnlyList<string> AdditionalAllowedIps,
    bool Blocked, string? BlockReason, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    // Set only in the creation response: the one-time secret — an enrollment token (jump, dynamic) or a
    // complete wg-quick config with the server-generated private key (static). Neither is stored anywhere.
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? EnrollmentToken { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public DateTimeOffset? EnrollmentTokenExpiresAt { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Config { get; init; }

    /// <summary>Where the peer's agent was last seen from (reported or observed in its heartbeats); null until then.</summary>
    public string? ObservedEndpoint { get; init; }

    /// <summary>The groups the peer is a member of, in the network's group order.</summary>
    public IReadOnlyList<NamedRef> Groups { get; init; } = [];

    public static PeerView Of(Network network, PeerState p) => new(
        p.Id, network.Id, p.Name, p.Kind, p.Address, p.PublicKey, p.Kind == PeerKind.Static || p.PublicKey is not null,
        p.Endpoint, p.ListenPort, p.Isolated, p.FullEncapsulation, p.AdditionalAllowedIps, p.Blocked, p.BlockReason,
        p.CreatedAt, p.UpdatedAt)
    {
        ObservedEndpoint = p.ObservedEndpoint,
        Groups = network.Groups.Where(g => g.Members.Contains(p.Id)).Select(g => new NamedRef(g.Id, g.Name)).ToList(),
    };

    /// <summary>The peer as a change to it leaves it, by the same fold that stores it (so the answer matches a later GET).</summary>
    public static PeerView After(Network network, PeerState peer, object change)
    {
        var after = NetworkEvolution.Evolve(network, change) ?? network;
        return Of(after, after.FindPeer(peer.Id) ?? peer);
    }
}
