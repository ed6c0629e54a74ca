using Marten;
using Npgsql;

namespace Wirety.Server.Networks;

/// <summary>
/// Network names and CIDRs must be unique across networks, which no single stream can guard. Creating
/// or renaming a network therefore takes a transaction-scoped PostgreSQL advisory lock before reading the
/// others, which also serialises server instances sharing the database. Network changes are rare; the lock
/// is cheap. An update takes it after its network stream's lock; nothing holding this lock ever waits for
/// a stream lock (creation starts a new stream), so the two cannot deadlock.
/// </summary>
public static class NetworkRegistryLock
{
    private const long Key = 0x5769726574794E; // "WiretyN"

    public static async Task AcquireAsync(IDocumentSession session, CancellationToken ct)
    {
        await session.BeginTransactionAsync(ct);
        await using var cmd = new NpgsqlCommand("select pg_advisory_xact_lock(@key)", session.Connection);
        cmd.Parameters.AddWithValue("key", Key);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
