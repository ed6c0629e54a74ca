using System.Security.Cryptography;
using Npgsql;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace Wirety.Server.ServerKeys;

/// <summary>
/// A server secret that every instance of one database shares but that lives outside the event store (so never in an
/// event, and never in a backup: backups carry the event and document tables only): one row in its own table, created
/// with the store's schema objects (so two instances starting together create it once). The first instance inserts
/// random bytes, <c>on conflict do nothing</c>, and every instance then reads the row that won. Used for the change
/// notices' HMAC key (<see cref="Changes.NoticeSigner"/>) and the agent-signing key (<see cref="AgentDeltas.AgentSigningKey"/>).
/// Rotation: delete the row and restart every instance.
/// </summary>
public static class ServerKeyTable
{
    /// <summary>The key's table, for <c>StoreOptions.Storage.ExtendedSchemaObjects</c>.</summary>
    public static Table Table(string schema, string name)
    {
        var table = new Table(new PostgresqlObjectName(schema, name, SchemaUtils.IdentifierUsage.General));
        table.AddColumn<int>("id").AsPrimaryKey();
        table.AddColumn("key", "bytea").NotNull();
        return table;
    }

    /// <summary>The database's key in <paramref name="name"/>, created as <paramref name="length"/> random bytes when there is none yet.</summary>
    public static async Task<byte[]> LoadOrCreateAsync(NpgsqlConnection connection, string name, int length, CancellationToken ct)
    {
        const string schema = Projections.WiretyStore.Schema;
        await using var command = new NpgsqlCommand(
            $"insert into {schema}.{name} (id, key) values (1, @key) on conflict (id) do nothing; select key from {schema}.{name} where id = 1",
            connection);
        command.Parameters.AddWithValue("key", RandomNumberGenerator.GetBytes(length));
        var key = (byte[]?)await command.ExecuteScalarAsync(ct);
        return key is { Length: var l } && l == length ? key : throw new InvalidOperationException($"{schema}.{name} holds no usable key.");
    }
}
