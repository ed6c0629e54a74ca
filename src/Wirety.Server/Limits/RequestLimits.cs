using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Wirety.Server.Agents;
using Wirety.Server.Auth;

namespace Wirety.Server.Limits;

/// <summary>
/// Request body limits (413) and rate limits (429 with Retry-After), both answered as problem details.
/// Rate limits are keyed before authentication, so a flood costs no credential lookup: enrollment by
/// source address, heartbeats by the session credential, the admin API by the API token (by source
/// address when none is presented). Keys are hashes of the presented credentials, never the credentials.
/// </summary>
public static class RequestLimits
{
    public const string AgentPrefix = "/api/v1/agent", EnrollPath = "/api/v1/agent/enroll", HeartbeatPath = "/api/v1/agent/heartbeat",
        RotateKeyPath = "/api/v1/agent/rotate-key";

    public static IServiceCollection AddRequestLimits(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<LimitsOptions>().Bind(configuration.GetSection(LimitsOptions.Section))
            .Validate(o => o is { AgentBodyBytes: > 0, HeartbeatBodyBytes: > 0, AdminBodyBytes: > 0, EnrollmentsPerWindow: > 0, HeartbeatsPerWindow: > 0, AdminRequestsPerWindow: > 0 }
                           && o.RateWindow > TimeSpan.Zero && o.EndpointChangeInterval >= TimeSpan.Zero && o.RejectionStreamPeriod > TimeSpan.Zero,
                "Wirety:Limits: sizes and counts must be positive, RateWindow and RejectionStreamPeriod longer than zero.")
            .Validate(o => o is { SocketsPerAgentSession: > 0, SocketsPerApiToken: > 0, MaxConnections: > 0, MaxUpgradedConnections: > 0 }
                           && o.SocketRetryAfter > TimeSpan.Zero && o.RequestHeadersTimeout > TimeSpan.Zero && o.KeepAliveTimeout > TimeSpan.Zero,
                "Wirety:Limits: socket caps, connection limits and timeouts must be positive.")
            .ValidateOnStart();
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = (context, ct) => TooManyAsync(context, ct);
        });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<LimitsOptions>>((o, limits) =>
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http => Partition(http, limits.Value)));
        services.ConfigureHttpJsonOptions(o => StrictJson.Apply(o.SerializerOptions));
        return services;
    }

    /// <summary>Body limits, then rate limits: before authentication, so refused requests cost little.</summary>
    public static IApplicationBuilder UseRequestLimits(this IApplicationBuilder app) =>
        app.Use(LimitBodyAsync).UseRateLimiter();

    /// <summary>Which budget a request spends, or none (health, UI, config polls, the agent socket).</summary>
    public static RateLimitPartition<string> Partition(HttpContext http, LimitsOptions limits)
    {
        var path = http.Request.Path;
        if (path.StartsWithSegments(EnrollPath))
            return Window("enroll:" + AgentRules.SourceAddress(http), limits.EnrollmentsPerWindow, limits.RateWindow);
        if (path.StartsWithSegments(HeartbeatPath))
            return Window("heartbeat:" + CredentialKey(http), limits.HeartbeatsPerWindow, limits.RateWindow);
        // Rotations are rare (days apart): the enrollment budget, per session credential.
        if (path.StartsWithSegments(RotateKeyPath))
            return Window("rotate-key:" + CredentialKey(http), limits.EnrollmentsPerWindow, limits.RateWindow);
        if (path.StartsWithSegments(AgentPrefix) || !path.StartsWithSegments("/api"))
            return RateLimitPartition.GetNoLimiter("none");
        return Window("admin:" + CredentialKey(http), limits.AdminRequestsPerWindow, limits.RateWindow);
    }

    private static RateLimitPartition<string> Window(string key, int permits, TimeSpan window) =>
        RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = permits, Window = window, QueueLimit = 0, AutoReplenishment = true,
        });

    /// <summary>The presented bearer credential (hashed), else the source address.</summary>
    private static string CredentialKey(HttpContext http) =>
        http.Request.Headers.Authorization.ToString() is { Length: > 7 } header && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? "token:" + TokenSecrets.Hash(header[7..].Trim())
            : "address:" + AgentRules.SourceAddress(http);

    private static async ValueTask TooManyAsync(OnRejectedContext context, CancellationToken ct)
    {
        var http = context.HttpContext;
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
        var seconds = (long)Math.Max(1, Math.Ceiling(retryAfter.TotalSeconds));
        http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await WriteProblemAsync(http, 429, "Too many requests",
            $"Too many requests for this {(http.Request.Path.StartsWithSegments(EnrollPath) ? "address" : http.Request.Path.StartsWithSegments(HeartbeatPath) ? "agent session" : "credential")}; retry after {seconds} s.");
    }

    private static async Task LimitBodyAsync(HttpContext http, RequestDelegate next)
    {
        var limits = http.RequestServices.GetRequiredService<IOptions<LimitsOptions>>().Value;
        var path = http.Request.Path;
        var limit = path.StartsWithSegments(HeartbeatPath) ? limits.HeartbeatBodyBytes
            : path.StartsWithSegments(AgentPrefix) ? limits.AgentBodyBytes : limits.AdminBodyBytes;
        if (http.Request.ContentLength > limit)
        {
            await WriteProblemAsync(http, 413, "Request body too large", TooLarge(limit));
            return;
        }
        // Kestrel enforces its own limit for bodies without a length; elsewhere (TestServer, other hosts)
        // the counting stream below does.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature) feature.MaxRequestBodySize = limit;
        if (http.Request.ContentLength is null && http.Request.Body is { } body)
            http.Request.Body = new LimitedBodyStream(body, limit);
        await next(http);
    }

    public static string TooLarge(long limit) => $"The request body is larger than this endpoint accepts ({limit} bytes).";

    public static async Task WriteProblemAsync(HttpContext http, int status, string title, string detail)
    {
        http.Response.StatusCode = status;
        var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = { Status = status, Title = title, Detail = detail } });
    }
}

/// <summary>A request body that fails with a 413 once more than the limit has been read.</summary>
internal sealed class LimitedBodyStream(Stream inner, long limit) : Stream
{
    private long _read;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) =>
        Count(await inner.ReadAsync(buffer, ct));

    public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        Count(await inner.ReadAsync(buffer.AsMemory(offset, count), ct));

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

    private int Count(int read)
    {
        _read += read;
        if (_read > limit) throw new BadHttpRequestException(RequestLimits.TooLarge(limit), StatusCodes.Status413PayloadTooLarge);
        return read;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _read; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
