using Marten;
using Wirety.Server.Changes;

namespace Wirety.Server.Health;

public static class HealthEndpoints
{
    /// <summary>
    /// <c>/healthz</c>: the process is up. <c>/readyz</c>: the database answers and this instance hears
    /// the changes committed by every instance (without that its caches would go stale).
    /// </summary>
    public static void MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Ok(new { status = "ok" })).AllowAnonymous();
        app.MapGet("/readyz", async (IDocumentStore store, ChangeFeedListener changes, CancellationToken ct) =>
        {
            if (!changes.IsListening)
                return Results.Problem(statusCode: 503, title: "Not ready", detail: "Not listening for changes from PostgreSQL (reconnecting).");
            try
            {
                await using var session = store.QuerySession();
                await session.QueryAsync<int>("select 1", ct);
                return Results.Ok(new { status = "ready" });
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
            {
                return Results.Problem(statusCode: 503, title: "Not ready", detail: "The database is not reachable.");
            }
        }).AllowAnonymous();
    }
}
