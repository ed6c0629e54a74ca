using System.Text.Json;
using System.Text.Json.Serialization;

namespace Wirety.Events.Agent;

// The agent protocol (HTTP + WebSocket under /api/v1/agent). JSON is camelCase (AgentProtocolJson). These
// records are the contract between wirety-agent and the server; they are only ever added to.

/// <summary><c>POST /api/v1/agent/enroll</c> (no auth: the one-time token is the credential).</summary>
public sealed record EnrollRequest(string? Token, string? PublicKey, string? Hostname, string? AgentVersion);

/// <summary>
/// The session token is returned here once; the server keeps only its hash. <see cref="SigningKey"/> is the
/// server's Ed25519 agent-signing public key (32 bytes, unpadded base64url), which the agent pins to verify
/// delta envelopes (<see cref="AgentEnvelope"/>).
/// </summary>
public sealed record EnrollResponse(Guid PeerId, Guid NetworkId, string SessionToken, AgentConfig Config, string? SigningKey = null);

/// <summary>
/// <c>GET /api/v1/agent/config</c> (Bearer session token), with a strong ETag; 304 on If-None-Match.
/// <see cref="Version"/> is the network stream version at which this peer's config last changed.
/// <see cref="KeyRotationDays"/>: the network's key rotation interval (days); the agent makes a new key pair and
/// sends it to <c>POST /api/v1/agent/rotate-key</c> once its key is that old. Left out of the JSON when off, so
/// configs without it keep the bytes (and ETags) they had before it existed.
/// </summary>
public sealed record AgentConfig(
    string Version,
    string Kind,
    AgentInterface Interface,
    IReadOnlyList<AgentPeer> Peers,
    AgentForwarding? Forwarding,
    AgentFilter? Filter = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? KeyRotationDays = null);

public sealed record AgentInterface(string Address, int? ListenPort, int? Mtu, IReadOnlyList<string> Dns);

/// <param name="Id">The peer's id (the key of the agent's peer index for deltas); null from servers before issue 15.</param>
public sealed record AgentPeer(string PublicKey, string? Endpoint, IReadOnlyList<string> AllowedIps, int? PersistentKeepalive, Guid? Id = null);

/// <summary>
/// For jump peers and the peers routes go through: forward between peers, and masquerade traffic from
/// these sources (a jump: the fully encapsulated peers' addresses; a route's peer: the peers the route is
/// offered to) out of every interface but the WireGuard one.
/// </summary>
public sealed record AgentForwarding(IReadOnlyList<string> MasqueradeSources);

/// <summary>
/// The packet filter the agent enforces on its WireGuard interface (null: the agent keeps no filter and
/// removes one it installed). Each chain sees only packets that arrive on the WireGuard interface:
/// <see cref="Input"/> those addressed to this host, <see cref="Forward"/> (jumps and route peers only;
/// null elsewhere) those it forwards. In each chain the agent first accepts replies of connections it
/// already let through (conntrack <c>established</c> in the reply direction, and <c>related</c>), then
/// applies the rules in order (first match wins), then drops. Packets in the original direction of an
/// established connection are checked against the rules every time, so removing a rule cuts connections
/// it had allowed.
/// </summary>
public sealed record AgentFilter(IReadOnlyList<AgentFilterRule> Input, IReadOnlyList<AgentFilterRule>? Forward);

/// <summary>
/// One filter rule. <paramref name="Action"/> is <c>accept</c> or <c>drop</c>. <paramref name="Sources"/> and
/// <paramref name="Destinations"/> are IPv4 prefixes (<c>10.0.0.5/32</c>); empty means any address.
/// <paramref name="Ports"/> are canonical port rules (<c>tcp/22</c>, <c>tcp/8000-8100</c>, <c>udp</c>,
/// <c>icmp</c>; see <c>Wirety.Events.Segmentation.PortRange</c>); empty means every protocol and port.
/// </summary>
public sealed record AgentFilterRule(string Action, IReadOnlyList<string> Sources, IReadOnlyList<string> Destinations, IReadOnlyList<string> Ports)
{
    public const string Accept = "accept";
    public const string Drop = "drop";
}

/// <summary><c>POST /api/v1/agent/heartbeat</c> (Bearer). Acknowledged once its event is committed.</summary>
public sealed record HeartbeatRequest(
    string? Hostname, int? ListenPort, IReadOnlyList<string>? Endpoints, long UptimeSeconds, IReadOnlyList<PeerStat>? PeerStats);

public sealed record PeerStat(string PublicKey, DateTimeOffset? LatestHandshake, long RxBytes, long TxBytes);

/// <summary>Server → agent message on <c>GET /api/v1/agent/ws</c>, e.g. <c>{"type":"config-changed","version":"17"}</c>.</summary>
public sealed record AgentMessage(string Type, string? Version)
{
    public const string ConfigChanged = "config-changed";
}

/// <summary>
/// The protocol's JSON, generated at build time. The server and the agent read and write these records
/// through this context, so both sides agree on the bytes (a config's ETag hashes them).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(EnrollRequest))]
[JsonSerializable(typeof(EnrollResponse))]
[JsonSerializable(typeof(AgentConfig))]
[JsonSerializable(typeof(HeartbeatRequest))]
[JsonSerializable(typeof(AgentMessage))]
[JsonSerializable(typeof(AgentEnvelope))]
[JsonSerializable(typeof(AgentPeerChange))]
[JsonSerializable(typeof(AgentInterface))]
[JsonSerializable(typeof(RotateKeyRequest))]
[JsonSerializable(typeof(RotateKeyResponse))]
public sealed partial class AgentProtocolJson : JsonSerializerContext;
