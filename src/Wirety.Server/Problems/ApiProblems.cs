namespace Wirety.Server.Problems;

/// <summary>
/// Why a command was refused. Decide functions return it instead of throwing, so they stay pure and
/// testable; the endpoint turns it into an RFC 7807 response.
/// </summary>
public sealed record Rejection(int Status, string Title, string Detail, IReadOnlyDictionary<string, string[]>? Errors = null)
{
    public static Rejection NotFound(string detail) => new(404, "Not found", detail);
    public static Rejection Conflict(string detail) => new(409, "Conflict", detail);
    public static Rejection BadRequest(string detail) => new(400, "The request is invalid", detail);
    public static Rejection MissingBody() => BadRequest("A JSON request body is required.");

    public IResult ToResult() => Errors is null
        ? Results.Problem(statusCode: Status, title: Title, detail: Detail)
        : Results.ValidationProblem(Errors.ToDictionary(e => e.Key, e => e.Value), detail: Detail, title: Title, statusCode: Status);
}

/// <summary>Either the outcome of a decision or why it was refused.</summary>
public readonly record struct Decision<T>(T? Value, Rejection? Rejected)
{
    public static implicit operator Decision<T>(T value) => new(value, null);
    public static implicit operator Decision<T>(Rejection rejected) => new(default, rejected);
}

/// <summary>Collects per-field validation messages; answered as a 400 with an <c>errors</c> map (field → messages).</summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool Any => _errors.Count > 0;

    public ValidationErrors Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list)) _errors[field] = list = [];
        list.Add(message);
        return this;
    }

    /// <summary>Adds the message when it is not null (rules return null for "fine").</summary>
    public ValidationErrors Check(string field, string? message) => message is null ? this : Add(field, message);

    public Rejection ToRejection() => new(400, "The request is invalid",
        string.Join(" ", _errors.SelectMany(e => e.Value)),
        _errors.ToDictionary(e => e.Key, e => e.Value.ToArray()));
}
