using NSec.Cryptography;
using Wirety.Events.Peers;

namespace Wirety.Server.Peers;

/// <summary>
/// A static peer has no agent, so the server generates its X25519 pair (NSec) once. The private half
/// goes into the creation response's config and nowhere else.
/// </summary>
public sealed record WireGuardKeyPair(string PrivateKey, string PublicKey)
{
    public static WireGuardKeyPair Generate()
    {
        using var key = Key.Create(KeyAgreementAlgorithm.X25519,
            new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        return new WireGuardKeyPair(
            Convert.ToBase64String(key.Export(KeyBlobFormat.RawPrivateKey)),
            WireGuardKey.From(key.PublicKey.Export(KeyBlobFormat.RawPublicKey)).ToString());
    }

    /// <summary>Never print the private key by accident.</summary>
    public override string ToString() => $"WireGuardKeyPair {{ PublicKey = {PublicKey} }}";
}
