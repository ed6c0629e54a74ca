using NSec.Cryptography;
using Wirety.Events.Peers;

namespace Wirety.Agent.Identity;

/// <summary>A WireGuard (X25519) key pair as base64 of the raw 32-byte keys, the form <c>wg</c> uses.</summary>
public sealed record KeyPair(Secret PrivateKey, string PublicKey)
{
    /// <summary>A fresh key pair; the private key never leaves this machine.</summary>
    public static KeyPair Generate()
    {
        using var key = Key.Create(KeyAgreementAlgorithm.X25519,
            new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        var privateBytes = key.Export(KeyBlobFormat.RawPrivateKey);
        try
        {
            return new KeyPair(
                new Secret(Convert.ToBase64String(privateBytes)),
                WireGuardKey.From(key.PublicKey.Export(KeyBlobFormat.RawPublicKey)).ToString());
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(privateBytes);
        }
    }

    /// <summary>The public key that belongs to a base64 private key (what <c>wg pubkey</c> prints).</summary>
    /// <exception cref="FormatException">Not a base64 32-byte key (the message never contains the key).</exception>
    public static string PublicKeyOf(Secret privateKey)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        byte[] raw;
        try
        {
            raw = Convert.FromBase64String(privateKey.Reveal());
        }
        catch (FormatException)
        {
            throw new FormatException("The private key is not valid base64.");
        }
        if (raw.Length != 32) throw new FormatException("The private key is not 32 bytes long.");
        try
        {
            using var key = Key.Import(KeyAgreementAlgorithm.X25519, raw, KeyBlobFormat.RawPrivateKey);
            return WireGuardKey.From(key.PublicKey.Export(KeyBlobFormat.RawPublicKey)).ToString();
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(raw);
        }
    }
}
