using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Wirety.Server.Operations;

/// <summary>
/// The key that signs backups (HMAC-SHA256, see <see cref="BackupFormat"/>): the bytes of a file named by
/// <c>--hmac-key-file</c> or, without it, by <c>WIRETY_BACKUP_HMAC_KEY_FILE</c>; one trailing newline is
/// ignored, so <c>openssl rand -hex 32 &gt; backup.key</c> makes a good one. The key never appears in a
/// message, an output line or the backup.
/// </summary>
public sealed class BackupKey
{
    public const string Variable = "WIRETY_BACKUP_HMAC_KEY_FILE";
    public const int MinimumBytes = 16;
    private readonly byte[] _key;

    private BackupKey(byte[] key) => _key = key;

    public static BackupKey FromBytes(byte[] key) =>
        key.Length >= MinimumBytes ? new BackupKey(key.ToArray()) : throw new ArgumentException($"an HMAC key needs at least {MinimumBytes} bytes.");

    /// <summary>Reads the key file; any problem with it is an <see cref="OperationFailedException"/> naming the file (never its content).</summary>
    public static BackupKey Load(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OperationFailedException($"cannot read the HMAC key file {path}: {e.Message}", e);
        }
        var length = bytes.Length;
        if (length > 0 && bytes[length - 1] == '\n') length--;
        if (length > 0 && bytes[length - 1] == '\r') length--;
        if (length < MinimumBytes)
            throw new OperationFailedException($"the HMAC key file {path} holds {length} bytes; a key needs at least {MinimumBytes} (e.g. `openssl rand -hex 32 > {path}`).");
        return new BackupKey(bytes[..length]);
    }

    public IncrementalHash CreateMac() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);

    /// <summary>What the MAC covers of the manifest: its JSON without the MAC itself.</summary>
    internal static byte[] SignedManifestBytes(BackupManifest unsigned) =>
        Encoding.UTF8.GetBytes(JsonSerializer.Serialize(unsigned with { HmacSha256 = null }, BackupJson.Default.BackupManifest));
}
