using System.Buffers.Text;
using NSec.Cryptography;
using Wirety.Events.Agent;

namespace Wirety.Agent.Deltas;

/// <summary>
/// Checks a delta envelope's Ed25519 signature against the server's signing key pinned at enrollment, over
/// <see cref="AgentEnvelopeSigning.SignedBytes"/> with this agent's own peer id (an envelope signed for another
/// agent does not verify here) and the payload's JSON text exactly as received.
/// </summary>
public sealed class EnvelopeVerifier
{
    private readonly Guid _peerId;
    private readonly PublicKey _key;

    private EnvelopeVerifier(Guid peerId, PublicKey key)
    {
        _peerId = peerId;
        _key = key;
    }

    /// <summary>A verifier for <paramref name="signingKey"/> (32 bytes, unpadded base64url), or null when it is missing or malformed.</summary>
    public static EnvelopeVerifier? For(Guid peerId, string? signingKey) =>
        TryParseKey(signingKey, out var key) ? new EnvelopeVerifier(peerId, key!) : null;

    /// <summary>Whether <paramref name="text"/> is an Ed25519 public key in unpadded base64url.</summary>
    public static bool IsWellFormedKey(string? text) => TryParseKey(text, out _);

    private static bool TryParseKey(string? text, out PublicKey? key)
    {
        key = null;
        if (string.IsNullOrEmpty(text) || text.Length != 43) return false;
        var raw = new byte[32];
        if (!TryDecode(text, raw)) return false;
        return PublicKey.TryImport(SignatureAlgorithm.Ed25519, raw, KeyBlobFormat.RawPublicKey, out key);
    }

    /// <summary>Unpadded base64url into exactly <paramref name="destination"/>; false for anything else.</summary>
    private static bool TryDecode(string text, byte[] destination)
    {
        try
        {
            // TryDecodeFromChars throws (rather than returning false) for characters outside the alphabet.
            return Base64Url.TryDecodeFromChars(text, destination, out var written) && written == destination.Length;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>True only for an envelope with a well-formed signature that verifies; never throws for bad input.</summary>
    public bool Verify(AgentEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        if (string.IsNullOrEmpty(envelope.Signature) || string.IsNullOrEmpty(envelope.Type)) return false;
        if (envelope.Payload.ValueKind == System.Text.Json.JsonValueKind.Undefined) return false;
        var signature = new byte[SignatureAlgorithm.Ed25519.SignatureSize];
        if (envelope.Signature.Length != 86 || !TryDecode(envelope.Signature, signature)) return false;
        var signed = AgentEnvelopeSigning.SignedBytes(_peerId, envelope.Type, envelope.NetworkVersion, envelope.PreviousVersion,
            envelope.Payload.GetRawText());
        return SignatureAlgorithm.Ed25519.Verify(_key, signed, signature);
    }
}
