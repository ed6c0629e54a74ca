using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Weasel.Postgresql;
using Wirety.Testing;

namespace Wirety.Tests.Operations;

/// <summary>
/// The advisory locks Marten takes through Weasel (daemon leadership, which projection rebuilds and any
/// async projection rely on) come from Patched.DistributedLock.Postgres, straight from the package source
/// since the local metapackage shim was removed. This shows the lock is really taken in PostgreSQL, is
/// exclusive, and is released, in both of Weasel's modes.
/// </summary>
public sealed class AdvisoryLockTests
{
    [Theory]
    [InlineData(true)]  // what Wirety configures (UseAdvisoryLockTransaction)
    [InlineData(false)] // Weasel's default, session-scoped
    public async Task a_weasel_advisory_lock_is_held_in_postgres_exclusively_until_released(bool transactional)
    {
        var cluster = await PostgresCluster.SharedAsync();
        var cs = await cluster.CreateDatabaseAsync($"advisory_lock_{(transactional ? "tx" : "session")}");
        await using var source = NpgsqlDataSource.Create(cs);
        var options = new AdvisoryLockOptions { TransactionalLockEnabled = transactional };
        const int lockId = 424242;

        await using var first = new AdvisoryLock(source, NullLogger.Instance, "first", options);
        await using var second = new AdvisoryLock(source, NullLogger.Instance, "second", options);

        Assert.True(await first.TryAttainLockAsync(lockId, CancellationToken.None));
        Assert.True(first.HasLock(lockId));
        Assert.Equal(1, await AdvisoryLocksHeldAsync(cs));
        Assert.False(await second.TryAttainLockAsync(lockId, CancellationToken.None));
        Assert.NotNull(await second.FindHolderAsync(lockId, CancellationToken.None));

        await first.ReleaseLockAsync(lockId);
        Assert.False(first.HasLock(lockId));
        Assert.Equal(0, await AdvisoryLocksHeldAsync(cs));
        Assert.True(await second.TryAttainLockAsync(lockId, CancellationToken.None));
        await second.ReleaseLockAsync(lockId);
    }

    private static async Task<long> AdvisoryLocksHeldAsync(string cs)
    {
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(
            "select count(*) from pg_locks where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())", conn);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }
}
