using System.Text.Json;
using JasperFx;
using Marten.Exceptions;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace Wirety.Server.Problems;

/// <summary>
/// Turns the exceptions that mean "the client raced another writer" or "the client sent garbage" into
/// 4xx problem details. Anything else is a bug and stays a 500 (logged by the framework).
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
            _ => (0, ""),
        };
        if (status == 0) return false;

        context.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = status, Title = status switch { 409 => "Conflict", 503 => "Service unavailable", _ => "The request is invalid" }, Detail = detail },
            Exception = exception,
        });
    }
}
