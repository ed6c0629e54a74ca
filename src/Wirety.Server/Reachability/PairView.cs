using Wirety.Projections.Networks;
using Wirety.Projections.Segmentation;
using Wirety.Server.Networks;

namespace Wirety.Server.Reachability;

/// <summary>
/// <c>from</c> may open connections to <c>to</c> on <c>ports</c> (canonical port rules; empty = every protocol
/// and port). Replies need no pair of their own.
/// </summary>
public sealed record PairView(NamedRef From, NamedRef To, IReadOnlyList<string> Ports)
{
    public static PairView Of(PeerState from, PeerState to, PortSet ports) =>
        new(new NamedRef(from.Id, from.Name), new NamedRef(to.Id, to.Name), ports.ToTexts());
}
