using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Wirety.Events.Agent;

// The delta protocol on GET /api/v1/agent/ws?deltas=1 (issue 15). Only ever added to, like AgentProtocol.cs.

/// <summary>
/// One server → agent message on a delta socket. <see cref="Payload"/> depends on <see cref="Type"/> (see
/// <see cref="AgentDeltaTypes"/>). The agent applies it only when its current config version equals
/// <see cref="PreviousVersion"/>, and then holds <see cref="NetworkVersion"/>; on any gap, restart or reconnect it
/// fetches the whole config instead. <see cref="Signature"/> is an Ed25519 signature (unpadded base64url) by the
/// server's agent-signing key over <see cref="AgentEnvelopeSigning.SignedBytes"/>; the agent pins that key's public
/// half at enrollment (<see cref="EnrollResponse.SigningKey"/>) and drops any envelope without a valid signature.
/// </summary>
public sealed record AgentEnvelope(string Type, long NetworkVersion, long PreviousVersion, JsonElement Payload, string Signature);

public static class AgentDeltaTypes
{
    /// <summary>Payload <see cref="AgentPeerChange"/> with <c>Peer</c>: a new entry.</summary>
    public const string PeerAdded = "peer-added";
    /// <summary>Payload <see cref="AgentPeerChange"/> (only <c>PeerId</c> and <c>PublicKey</c>): the entry goes.</summary>
    public const string PeerRemoved = "peer-removed";
    /// <summary>Payload <see cref="AgentPeerChange"/> with <c>Peer</c>: same key, new endpoint, allowed IPs or keepalive.</summary>
    public const string PeerUpdated = "peer-updated";
    /// <summary>Payload <see cref="AgentPeerChange"/> with <c>Peer</c> (new key) and <c>PublicKey</c> (the old one): remove old, add new.</summary>
    public const string PeerKeyRotated = "peer-key-rotated";
    /// <summary>Payload <see cref="AgentInterface"/>: the interface section changed (address, listen port, MTU, DNS).</summary>
    public const string InterfaceChanged = "interface-changed";
    /// <summary>Payload <see cref="AgentConfig"/>: the whole config (filter or forwarding changes, resync).</summary>
    public const string ConfigReplaced = "config-replaced";
}

/// <summary>
/// A change to one <c>[Peer]</c> entry. <paramref name="PublicKey"/> is the entry's key before the change (for
/// <c>peer-removed</c> and <c>peer-key-rotated</c>; null otherwise); <paramref name="Peer"/> the entry after it
/// (null for <c>peer-removed</c>).
/// </summary>
public sealed record AgentPeerChange(Guid PeerId, AgentPeer? Peer, string? PublicKey = null);

/// <summary><c>POST /api/v1/agent/rotate-key</c> (Bearer session token): the agent's new public key.</summary>
public sealed record RotateKeyRequest(string? PublicKey);

/// <summary>The config as it is with the new key (its version is the rotation's).</summary>
public sealed record RotateKeyResponse(AgentConfig Config);

/// <summary>What exactly is signed, shared by the server (signing) and the agent (verifying).</summary>
public static class AgentEnvelopeSigning
{
    public const string Domain = "wirety-agent-delta-v1";

    /// <summary>
    /// <c>wirety-agent-delta-v1\n{peerId}\n{type}\n{networkVersion}\n{previousVersion}\n{payload}</c> in UTF-8, where
    /// payload is the payload's JSON text exactly as sent (<see cref="JsonElement.GetRawText"/>). The recipient's peer
    /// id is bound in, so an envelope for one agent cannot be replayed to another.
    /// </summary>
    public static byte[] SignedBytes(Guid recipientPeerId, string type, long networkVersion, long previousVersion, string payloadJson) =>
        Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"{Domain}\n{recipientPeerId:D}\n{type}\n{networkVersion}\n{previousVersion}\n{payloadJson}"));
}
