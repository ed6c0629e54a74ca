using System.Data;
using System.Globalization;
using Npgsql;

namespace Wirety.Server.ReadBounds;

/// <summary>
/// A PostgreSQL <c>statement_timeout</c> for the commands of one read (<see cref="Limits.LimitsOptions.EventQueryTimeout"/>):
/// the database itself stops a query that runs too long, so a slow filter cannot hold a connection and a
/// core for ever. Set with <c>SET LOCAL</c> semantics inside a transaction, so the setting ends with
/// the transaction and never leaks into the pooled connection's next user.
/// </summary>
public static class StatementTimeout
{
    public static async Task<NpgsqlTransaction> BeginAsync(NpgsqlConnection conn, TimeSpan timeout, CancellationToken ct)
    {
        var tx = await conn.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
        await using var cmd = new NpgsqlCommand("select set_config('statement_timeout', @ms, true)", conn, tx);
        cmd.Parameters.AddWithValue("ms", Milliseconds(timeout).ToString(CultureInfo.InvariantCulture));
        await cmd.ExecuteNonQueryAsync(ct);
        return tx;
    }

    public static long Milliseconds(TimeSpan timeout) => Math.Max(1, (long)Math.Ceiling(timeout.TotalMilliseconds));

    /// <summary>Whether the exception is PostgreSQL cancelling a statement for running too long (not the client going away).</summary>
    public static bool IsTimeout(Exception e, CancellationToken ct) =>
        !ct.IsCancellationRequested && (e is PostgresException { SqlState: PostgresErrorCodes.QueryCanceled }
                                        || e.InnerException is PostgresException { SqlState: PostgresErrorCodes.QueryCanceled });

    public const string TimeoutTitle = "Service unavailable";

    public static string TimeoutDetail(TimeSpan timeout) => string.Create(CultureInfo.InvariantCulture,
        $"The query did not finish within the server's statement timeout ({Milliseconds(timeout)} ms). Narrow it (a time range, types, a network or peer) or read it in pages with after and limit.");

    /// <summary>The 503 problem for a read stopped by the timeout before anything was sent.</summary>
    public static IResult Problem(HttpContext http, TimeSpan timeout)
    {
        http.Response.Headers.RetryAfter = "1";
        return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: TimeoutTitle, detail: TimeoutDetail(timeout));
    }
}
