using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace Wirety.Server.Problems;

/// <summary>
/// The RFC 7807 answers to refused requests. Endpoints' sibling <c>Validate</c> methods return them:
/// Wolverine stops the request with any <see cref="ProblemDetails"/> other than <see cref="None"/> (it
/// compares by reference), before the handler runs and so before anything is appended.
/// </summary>
public static class ApiProblems
{
    public const string InvalidTitle = "The request is invalid";

    /// <summary>Go on to the handler.</summary>
    public static ProblemDetails None => WolverineContinue.NoProblems;

    public static ProblemDetails NotFound(string detail) => new() { Status = 404, Title = "Not found", Detail = detail };
    public static ProblemDetails Conflict(string detail) => new() { Status = 409, Title = "Conflict", Detail = detail };
    public static ProblemDetails BadRequest(string detail) => new() { Status = 400, Title = InvalidTitle, Detail = detail };
    public static ProblemDetails MissingBody() => BadRequest("A JSON request body is required.");

    /// <summary>For endpoints that answer a problem themselves (queries, hand-written shells).</summary>
    public static IResult ToResult(this ProblemDetails problem) => Results.Problem(problem);
}

/// <summary>Collects per-field validation messages; answered as a 400 with an <c>errors</c> map (field → messages).</summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool Any => _errors.Count > 0;

    /// <summary>How many fields have messages.</summary>
    public int Count => _errors.Count;

    public ValidationErrors Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list)) _errors[field] = list = [];
        list.Add(message);
        return this;
    }

    /// <summary>Adds the message when it is not null (rules return null for "fine").</summary>
    public ValidationErrors Check(string field, string? message) => message is null ? this : Add(field, message);

    public ProblemDetails ToProblem() => new HttpValidationProblemDetails(_errors.ToDictionary(e => e.Key, e => e.Value.ToArray()))
    {
        Status = 400, Title = ApiProblems.InvalidTitle, Detail = string.Join(" ", _errors.SelectMany(e => e.Value)),
    };
}
