namespace Wirety.Projections.Configs;

/// <summary>
/// One peer's current config, kept by <see cref="PeerConfigProjection"/> in two renderings: wg-quick
/// text (admins, static peers) and agent JSON. <see cref="Version"/> is the network stream version of
/// the change that last altered this config; the ETags are hashes of the exact bytes served, so equal
/// histories give equal ETags.
/// </summary>
public sealed record PeerConfigDocument(
    Guid Id, Guid NetworkId, long Version, string ETag, string Text, string AgentETag, string AgentJson);

/// <summary>The projection's own copy of the network state it rendered from (so it can diff before/after).</summary>
public sealed record ConfigSource(Guid Id, long Version, Networks.Network Network);
