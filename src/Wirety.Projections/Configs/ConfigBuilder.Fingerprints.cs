using Wirety.Events.Peers;
using Wirety.Projections.Networks;

namespace Wirety.Projections.Configs;

public static partial class ConfigBuilder
{
    /// <summary>
    /// The <see cref="ConfigFingerprint"/> of each given peer's config, equal to fingerprinting
    /// <see cref="Build"/>'s model. In a network where no peer has routes behind it (so no entry's
    /// AllowedIPs depend on which entries come before it) this is O(N + peers): the entries of a mesh
    /// member's config are the mesh minus itself, so one sum over the mesh serves every member — a
    /// mesh-wide change no longer costs N configs of N entries. Otherwise each config is built (O(N) each).
    /// </summary>
    public static IReadOnlyList<(Guid PeerId, string Fingerprint)> Fingerprints(Network network, IReadOnlyList<Guid> peerIds)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(peerIds);
        var results = new (Guid, string)[peerIds.Count];
        if (!HasIndependentEntries(network))
        {
            void One(int i)
            {
                var model = Build(network, peerIds[i]);
                results[i] = (peerIds[i], ConfigFingerprint.Of(model, HostRules.For(network, peerIds[i])));
            }
            if (peerIds.Count < 64) for (var i = 0; i < peerIds.Count; i++) One(i);
            else Parallel.For(0, peerIds.Count, One);
            return results;
        }

        var sums = new EntrySums(network);
        var byId = network.Peers.ToDictionary(p => p.Id);
        for (var i = 0; i < peerIds.Count; i++)
        {
            var viewer = byId.TryGetValue(peerIds[i], out var found)
                ? found
                : throw new ArgumentException($"Peer {peerIds[i]} is not in network {network.Id}.", nameof(peerIds));
            var header = new PeerConfigModel(network.Id, viewer.Id, viewer.Name, viewer.Kind, Interface(network, viewer), [], network.KeyRotationDays);
            results[i] = (viewer.Id, ConfigFingerprint.Combine(header, sums.For(viewer), HostRules.For(network, viewer.Id)));
        }
        return results;
    }

    /// <summary>
    /// No routes behind any peer, no two peers on one address, and the default policy <c>allow</c> (so every two
    /// mesh members are connected): then every entry claims only its own prefixes, whatever else the config
    /// holds, and an entry's content does not depend on its neighbours or on policies.
    /// </summary>
    internal static bool HasIndependentEntries(Network network)
    {
        if (network.DefaultPolicy != Wirety.Events.Segmentation.DefaultPolicy.Allow || network.Routes.Count > 0) return false;
        var addresses = new HashSet<string>();
        foreach (var peer in network.Peers)
            if (peer.AdditionalAllowedIps.Length > 0 || !addresses.Add(peer.Address)) return false;
        return true;
    }

    /// <summary>The per-entry hash sums every config of one network is assembled from.</summary>
    private sealed class EntrySums
    {
        private readonly List<PeerState> _jumps;
        private readonly UInt128 _jumpView;          // a jump's view: every usable peer
        private readonly UInt128 _mesh;              // a mesh member's direct entries: every member
        private readonly UInt128[] _memberJumps = new UInt128[4]; // jump entries by (isolated, fullEncapsulation)

        public EntrySums(Network network)
        {
            _jumps = network.Peers.Where(p => p.Kind == PeerKind.Jump && IsUsable(p)).ToList();
            foreach (var peer in network.Peers)
            {
                if (IsUsable(peer)) _jumpView += ConfigFingerprint.Entry(JumpViewEntry(peer));
                if (IsMeshMember(peer)) _mesh += ConfigFingerprint.Entry(MeshEntry(peer));
            }
            for (var combo = 0; combo < 4; combo++)
                foreach (var entry in MemberJumpEntries(network, _jumps, isolated: (combo & 1) != 0, fullEncapsulation: (combo & 2) != 0))
                    _memberJumps[combo] += ConfigFingerprint.Entry(entry);
        }

        public UInt128 For(PeerState viewer)
        {
            if (viewer.Blocked) return UInt128.Zero;
            if (viewer.Kind == PeerKind.Jump)
                return IsUsable(viewer) ? _jumpView - ConfigFingerprint.Entry(JumpViewEntry(viewer)) : _jumpView;
            var sum = _memberJumps[(viewer.Isolated ? 1 : 0) | (viewer.FullEncapsulation ? 2 : 0)];
            if (IsMeshMember(viewer)) sum += _mesh - ConfigFingerprint.Entry(MeshEntry(viewer));
            return sum;
        }

        private static PeerEntry JumpViewEntry(PeerState peer)
        {
            var isJump = peer.Kind == PeerKind.Jump;
            return Entry(peer, isJump ? peer.ReachableEndpoint : null, isJump ? PersistentKeepalive : null, Claim([], OwnRoutes(peer)));
        }

    }

    /// <summary>Where <see cref="HasIndependentEntries"/>: the usable jumps' entries in a member's config of this kind.</summary>
    internal static List<PeerEntry> MemberJumpEntries(Network network, IReadOnlyList<PeerState> usableJumps, bool isolated, bool fullEncapsulation)
    {
        var viewer = new PeerState { Name = "", Address = "", Isolated = isolated, FullEncapsulation = fullEncapsulation };
        return usableJumps.Select((jump, i) =>
            Entry(jump, jump.ReachableEndpoint, PersistentKeepalive, Claim([], JumpRoutes(network, viewer, jump, primary: i == 0)))).ToList();
    }

    /// <summary>Where <see cref="HasIndependentEntries"/>: a mesh member's entry, the same in every other member's config.</summary>
    internal static PeerEntry MeshEntry(PeerState peer) => Entry(peer, peer.ReachableEndpoint, PersistentKeepalive, Claim([], OwnRoutes(peer)));
}
