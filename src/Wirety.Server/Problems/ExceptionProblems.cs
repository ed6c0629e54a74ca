using System.Text.Json;
using JasperFx;
using Marten.Exceptions;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace Wirety.Server.Problems;

/// <summary>
/// Turns the exceptions that mean "the client raced another writer" or "the client sent garbage" into
/// 4xx problem details, and "the database cannot be reached right now" into a 503 with Retry-After (see
/// <see cref="DatabaseUnavailable"/>). Anything else is a bug and stays a 500 (logged by the framework).
/// </summary>
public sealed class ExceptionProblems(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
    {
        var (status, detail) = exception switch
        {
            ConcurrencyException or ExistingStreamIdCollisionException =>
                (409, "Another change to the same resource was committed at the same time; retry the request."),
            PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } =>
                (409, "The change conflicts with an existing resource."),
            PostgresException { SqlState: PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected } =>
                (409, "The change raced another one; retry the request."),
            BadHttpRequestException bad => (bad.StatusCode, bad.Message),
            Agents.HeartbeatNotRecordedException => (503, "The heartbeat could not be recorded right now; send it again."),
            JsonException json => (400, "The request body is not valid JSON: " + json.Message),
            _ when DatabaseUnavailable(exception) => (503, "The database is not reachable right now; retry the request later."),
            _ => (0, ""),
        };
        if (status == 0) return false;

        context.Response.StatusCode = status;
        if (status == 503) context.Response.Headers.RetryAfter = RetryAfterSeconds;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = status, Title = status switch { 409 => "Conflict", 503 => "Service unavailable", _ => "The request is invalid" }, Detail = detail },
            Exception = exception,
        });
    }

    /// <summary>What a client waits before retrying a request refused because the database is unreachable.</summary>
    public const string RetryAfterSeconds = "5";

    /// <summary>
    /// The database is down, restarting or unreachable — an outage, not a bug in the request or in Wirety: a
    /// connection that could not be opened or broke (Npgsql reports these as transient), the server shutting
    /// down or not yet accepting connections (57P01-57P03), a connection failure class 08, or too many connections
    /// (53300). Marten, Wolverine and the heartbeat committer wrap these, so the whole chain is searched.
    /// The client is told only that its request was not acknowledged: a connection that broke during a commit
    /// leaves the outcome unknown (a retry of a create may then find the first attempt committed).
    /// </summary>
    public static bool DatabaseUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException p:
                    if (p.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow
                        or PostgresErrorCodes.TooManyConnections || p.SqlState.StartsWith("08", StringComparison.Ordinal))
                        return true;
                    return false; // any other error the server answered with is not an outage
                case NpgsqlException { IsTransient: true }:
                    return true;
            }
        }
        return false;
    }
}
