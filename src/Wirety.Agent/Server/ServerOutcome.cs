using System.Net;

namespace Wirety.Agent.Server;

public enum OutcomeKind
{
    /// <summary>2xx with a body that parsed.</summary>
    Ok,
    /// <summary>304: the config has not changed since the ETag we sent.</summary>
    NotModified,
    /// <summary>401: the credential was refused (session revoked, or a bad enrollment token).</summary>
    Unauthorized,
    /// <summary>Any other 4xx: the server understood and said no.</summary>
    Refused,
    /// <summary>No usable answer: connection failure, timeout, 5xx, unreadable body. Fail-static territory.</summary>
    Unreachable,
}

/// <summary>A server call's result, as a value: the run loop decides on it without catching exceptions.</summary>
public sealed record ServerOutcome<T>(OutcomeKind Kind, T? Value, string? ETag, HttpStatusCode? Status, string Detail)
{
    public static ServerOutcome<T> Ok(T value, string? etag = null) => new(OutcomeKind.Ok, value, etag, HttpStatusCode.OK, "ok");
    public static ServerOutcome<T> NotModified(string? etag) => new(OutcomeKind.NotModified, default, etag, HttpStatusCode.NotModified, "not modified");
    public static ServerOutcome<T> Unauthorized(string detail) => new(OutcomeKind.Unauthorized, default, null, HttpStatusCode.Unauthorized, detail);
    public static ServerOutcome<T> Refused(HttpStatusCode status, string detail) => new(OutcomeKind.Refused, default, null, status, detail);
    public static ServerOutcome<T> Unreachable(string detail, HttpStatusCode? status = null) => new(OutcomeKind.Unreachable, default, null, status, detail);
}
