using System.Buffers.Text;
using System.Text.Json;
using NSec.Cryptography;
using Wirety.Events.Agent;

namespace Wirety.Tests.Agent.Fakes;

/// <summary>The server's side of the delta signature, for tests: an Ed25519 key and envelopes signed with it.</summary>
public sealed class DeltaSigner : IDisposable
{
    private readonly Key _key = Key.Create(SignatureAlgorithm.Ed25519);

    /// <summary>The public key as the enrollment answer carries it (unpadded base64url).</summary>
    public string PublicKey => Base64Url.EncodeToString(_key.PublicKey.Export(KeyBlobFormat.RawPublicKey));

    public AgentEnvelope Sign(Guid recipient, string type, long networkVersion, long previousVersion, JsonElement payload)
    {
        var bytes = AgentEnvelopeSigning.SignedBytes(recipient, type, networkVersion, previousVersion, payload.GetRawText());
        return new AgentEnvelope(type, networkVersion, previousVersion, payload, Base64Url.EncodeToString(SignatureAlgorithm.Ed25519.Sign(_key, bytes)));
    }

    public AgentEnvelope PeerChange(Guid recipient, string type, long networkVersion, long previousVersion, AgentPeerChange change) =>
        Sign(recipient, type, networkVersion, previousVersion, JsonSerializer.SerializeToElement(change, AgentProtocolJson.Default.AgentPeerChange));

    /// <summary>An envelope as it crosses the socket, and back: the agent sees the payload's text exactly as sent.</summary>
    public static AgentEnvelope RoundTrip(AgentEnvelope envelope) =>
        JsonSerializer.Deserialize(Wire(envelope), AgentProtocolJson.Default.AgentEnvelope)!;

    public static byte[] Wire(AgentEnvelope envelope) => JsonSerializer.SerializeToUtf8Bytes(envelope, AgentProtocolJson.Default.AgentEnvelope);

    public void Dispose() => _key.Dispose();
}
