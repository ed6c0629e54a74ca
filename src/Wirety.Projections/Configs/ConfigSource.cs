namespace Wirety.Projections.Configs;

/// <summary>
/// What every peer's config of one network is rendered from, kept by <see cref="PeerConfigProjection"/>:
/// the network as of <see cref="Version"/> and, per peer, the stream version at which that peer's config
/// last changed with a fingerprint of its content. Configs themselves are not stored: a config is
/// rendered on demand from this one document (<see cref="ConfigRendering"/>), so a change that touches
/// every config of a large mesh writes one document, not N configs of N entries each.
/// </summary>
/// <param name="Peers">One stamp per peer of <see cref="Network"/>.</param>
public sealed record ConfigSource(Guid Id, long Version, Networks.Network Network, IReadOnlyDictionary<Guid, PeerConfigStamp> Peers)
{
    /// <summary>The network version at which the peer's config last changed (its <c>version</c> and <c>config-changed</c> value).</summary>
    /// <remarks>Only for a peer of <see cref="Network"/>: every one has a stamp.</remarks>
    public long VersionOf(Guid peerId) => Peers[peerId].Version;
}

/// <param name="Version">The network stream version of the change that last altered this peer's config.</param>
/// <param name="Fingerprint">A hash of everything the config renders (not its version): equal fingerprints, equal configs.</param>
public sealed record PeerConfigStamp(long Version, string Fingerprint);
