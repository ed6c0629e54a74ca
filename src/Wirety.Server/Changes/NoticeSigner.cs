using System.Security.Cryptography;
using System.Text;
using Npgsql;
using Weasel.Postgresql.Tables;
using Wirety.Server.Hosting;
using Wirety.Server.ServerKeys;

namespace Wirety.Server.Changes;

/// <summary>
/// Authenticates the change notices instances send each other. Any role that can connect to the database can
/// <c>NOTIFY wirety_changes</c>, and a notice makes instances close agent sockets and drop caches, so every
/// payload carries an HMAC-SHA256 of its JSON (<c>&lt;mac&gt;.&lt;json&gt;</c>, the MAC in unpadded base64url,
/// <see cref="Overhead"/> bytes in all), and a notice whose MAC is missing or wrong is dropped.
/// <para>
/// The key is 32 random bytes generated once per database and kept in <c>wirety.change_notice_key</c>
/// (<see cref="ServerKeyTable"/>), readable only by the role that owns it, the server's. The key never leaves this
/// class: not in a log, an event or a response.
/// Rotation: delete the row and restart every instance (notices between the restarts are dropped; the caches
/// and sockets are re-checked whenever the feed reconnects anyway).
/// </para>
/// A replayed genuine notice still verifies: notices are idempotent (evict, re-check, push a version), so a replay
/// costs re-reads and at most a reconnect, never access.
/// </summary>
public sealed class NoticeSigner(WiretySettings settings)
{
    public const string TableName = "change_notice_key";
    /// <summary>The MAC (43 characters of base64url) and the dot before the JSON.</summary>
    public const int Overhead = 44;
    private const int KeyBytes = 32;
    private readonly SemaphoreSlim _loading = new(1, 1);
    private volatile byte[]? _key;

    /// <summary>The key's table, part of the store's schema objects (created by the schema migration at start).</summary>
    public static Table Table(string schema) => ServerKeyTable.Table(schema, TableName);

    public bool IsLoaded => _key is not null;

    /// <summary>Loads the key (creating it on the first start against this database) unless loaded already.</summary>
    public async ValueTask EnsureLoadedAsync(CancellationToken ct)
    {
        if (_key is not null) return;
        await using var connection = new NpgsqlConnection(settings.ConnectionString);
        await connection.OpenAsync(ct);
        await EnsureLoadedAsync(connection, ct);
    }

    /// <summary>As above, on an open connection.</summary>
    public async ValueTask EnsureLoadedAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        if (_key is not null) return;
        await _loading.WaitAsync(ct);
        try
        {
            if (_key is not null) return;
            _key = await ServerKeyTable.LoadOrCreateAsync(connection, TableName, KeyBytes, ct);
        }
        finally { _loading.Release(); }
    }

    /// <summary>The NOTIFY payload for a notice's JSON.</summary>
    public string Sign(string json) => Mac(Key, json) + "." + json;

    /// <summary>The JSON of an authentic payload, or null when its MAC is missing or does not match.</summary>
    public string? Open(string payload)
    {
        var dot = payload.IndexOf('.');
        if (dot != Overhead - 1) return null;
        var json = payload[(dot + 1)..];
        var expected = Encoding.ASCII.GetBytes(Mac(Key, json));
        var presented = Encoding.UTF8.GetBytes(payload[..dot]);
        return CryptographicOperations.FixedTimeEquals(expected, presented) ? json : null;
    }

    private byte[] Key => _key ?? throw new InvalidOperationException("The change notice key is not loaded yet.");

    private static string Mac(byte[] key, string json) =>
        Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(json))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
