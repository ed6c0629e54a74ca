using System.Net.Sockets;
using Npgsql;
using Wirety.Server.Problems;

namespace Wirety.Tests.Cluster;

/// <summary>
/// Which failures the problem pipeline answers as "the database is unavailable" (503 with Retry-After) rather than
/// as a bug (500). The outage itself, end to end, is <see cref="DatabaseOutageFaultTests"/> (make faults); this
/// pins the classification in make test.
/// </summary>
public sealed class DatabaseUnavailableTests
{
    private static PostgresException Postgres(string sqlState) => new("message", "FATAL", "FATAL", sqlState);

    public static TheoryData<string, Exception> Outages => new()
    {
        { "connection refused", new NpgsqlException("Failed to connect to 127.0.0.1:5432", new SocketException((int)SocketError.ConnectionRefused)) },
        { "connection reset mid-query", new NpgsqlException("Exception while reading from stream", new IOException("reset")) },
        { "pool exhausted waiting", new NpgsqlException("The connection pool has been exhausted", new TimeoutException()) },
        { "57P01 admin shutdown", Postgres(PostgresErrorCodes.AdminShutdown) },
        { "57P02 crash shutdown", Postgres(PostgresErrorCodes.CrashShutdown) },
        { "57P03 starting up", Postgres(PostgresErrorCodes.CannotConnectNow) },
        { "08006 connection failure", Postgres(PostgresErrorCodes.ConnectionFailure) },
        { "53300 too many connections", Postgres(PostgresErrorCodes.TooManyConnections) },
        { "wrapped twice (as Marten and the heartbeat committer do)",
            new InvalidOperationException("outer", new ObjectDisposedException("NpgsqlTransaction", Postgres(PostgresErrorCodes.AdminShutdown))) },
    };

    public static TheoryData<string, Exception> Bugs => new()
    {
        { "a plain bug", new InvalidOperationException("bug") },
        { "23505 unique violation", Postgres(PostgresErrorCodes.UniqueViolation) },
        { "42P01 undefined table", Postgres(PostgresErrorCodes.UndefinedTable) },
        { "22P02 bad input, wrapped", new InvalidOperationException("outer", Postgres(PostgresErrorCodes.InvalidTextRepresentation)) },
        { "a non-transient Npgsql error", new NpgsqlException("protocol violation") },
    };

    [Theory]
    [MemberData(nameof(Outages))]
    public void an_unreachable_or_restarting_database_is_unavailable_not_a_bug(string what, Exception exception) =>
        Assert.True(ExceptionProblems.DatabaseUnavailable(exception), what);

    [Theory]
    [MemberData(nameof(Bugs))]
    public void an_error_the_database_answered_or_a_bug_stays_a_500(string what, Exception exception) =>
        Assert.False(ExceptionProblems.DatabaseUnavailable(exception), what);
}
