using System.Buffers.Text;
using NSec.Cryptography;
using Npgsql;
using Weasel.Postgresql.Tables;
using Wirety.Events.Agent;
using Wirety.Server.Hosting;
using Wirety.Server.ServerKeys;

namespace Wirety.Server.AgentDeltas;

/// <summary>
/// The Ed25519 key the server signs agent delta envelopes with (<see cref="AgentEnvelope"/>). Its 32-byte seed is
/// generated once per database and kept in <c>wirety.agent_signing_key</c> (<see cref="ServerKeyTable"/>), outside the
/// event store and outside backups; agents pin the public half at enrollment (<see cref="EnrollResponse.SigningKey"/>).
/// The private key never leaves this class: not in a log, an event or a response.
/// <para>
/// A restore into a fresh database, or deleting the row, makes a new key: agents enrolled before then drop every
/// envelope (bad signature) and fall back to fetching their full config (ETag), as after any gap. Re-enrolling pins
/// the new key.
/// </para>
/// </summary>
public sealed class AgentSigningKey(WiretySettings settings)
{
    public const string TableName = "agent_signing_key";
    private const int SeedBytes = 32;
    private static readonly SignatureAlgorithm Algorithm = SignatureAlgorithm.Ed25519;
    private readonly SemaphoreSlim _loading = new(1, 1);
    private volatile Key? _key;

    public static Table Table(string schema) => ServerKeyTable.Table(schema, TableName);

    /// <summary>Loads the key (creating it on first use against this database) unless loaded already.</summary>
    public async ValueTask EnsureLoadedAsync(CancellationToken ct)
    {
        if (_key is not null) return;
        await _loading.WaitAsync(ct);
        try
        {
            if (_key is not null) return;
            await using var connection = new NpgsqlConnection(settings.ConnectionString);
            await connection.OpenAsync(ct);
            var seed = await ServerKeyTable.LoadOrCreateAsync(connection, TableName, SeedBytes, ct);
            var key = Key.Import(Algorithm, seed, KeyBlobFormat.RawPrivateKey);
            // The public half first: a caller that sees _key set skips the lock and reads PublicKey at once (the
            // scale benchmark's concurrent enrollments got a null signingKey the other way round).
            PublicKey = Base64Url.EncodeToString(key.PublicKey.Export(KeyBlobFormat.RawPublicKey));
            _key = key;
        }
        finally { _loading.Release(); }
    }

    /// <summary>The public key (32 bytes, unpadded base64url); set once loaded.</summary>
    public string? PublicKey { get; private set; }

    /// <summary>The signature (unpadded base64url) of one envelope for <paramref name="recipientPeerId"/>.</summary>
    public string Sign(Guid recipientPeerId, string type, long networkVersion, long previousVersion, string payloadJson)
    {
        var key = _key ?? throw new InvalidOperationException("The agent signing key is not loaded yet.");
        return Base64Url.EncodeToString(Algorithm.Sign(key, AgentEnvelopeSigning.SignedBytes(recipientPeerId, type, networkVersion, previousVersion, payloadJson)));
    }
}
