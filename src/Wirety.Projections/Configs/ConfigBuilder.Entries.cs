using Wirety.Events.Peers;
using Wirety.Projections.Networks;

namespace Wirety.Projections.Configs;

public static partial class ConfigBuilder
{
    /// <summary>
    /// Whether a change to <paramref name="peerId"/> between these two states alters, in the config of any member
    /// (non-jump) other than the peer itself, at most that peer's own entry — so a delta for such a viewer is
    /// <see cref="StandaloneEntry"/> before against after, O(1), instead of building two configs of N entries.
    /// True when both states have independent entries (<see cref="HasIndependentEntries"/>: no routes behind any peer,
    /// default <c>allow</c>) and the peer is not a jump in either (a jump's entry, and which jump is primary, shape
    /// every member's config). A member viewer's filter and forwarding do not depend on the peer then, but a jump
    /// viewer's do (its forward filter drops blocked peers): jumps, and the peer itself, need their whole config.
    /// </summary>
    public static bool ChangeStandsAlone(Network before, Network after, Guid peerId) =>
        HasIndependentEntries(before) && HasIndependentEntries(after)
        && before.FindPeer(peerId) is not { Kind: PeerKind.Jump } && after.FindPeer(peerId) is not { Kind: PeerKind.Jump };

    /// <summary>
    /// Where <see cref="HasIndependentEntries"/> holds and <paramref name="peer"/> is not a jump: its entry in
    /// <paramref name="viewer"/>'s config (exactly as <see cref="Build"/> makes it), or null when it has none.
    /// </summary>
    public static PeerEntry? StandaloneEntry(PeerState viewer, PeerState peer)
    {
        if (viewer.Id == peer.Id || viewer.Blocked || !IsUsable(peer)) return null;
        if (viewer.Kind == PeerKind.Jump) return Entry(peer, null, null, Claim([], OwnRoutes(peer)));
        return IsMeshMember(viewer) && IsMeshMember(peer) ? MeshEntry(peer) : null;
    }
}
