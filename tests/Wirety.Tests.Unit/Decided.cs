using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events;
using Wirety.Server.Problems;

namespace Wirety.Tests.Unit;

/// <summary>
/// What the endpoint deciders are called with and answer, without a host or a database: a fixed clock,
/// an admin principal as authentication builds it, and readers for the results.
/// </summary>
internal static class Decided
{
    public static readonly DateTimeOffset Now = new(2026, 3, 1, 9, 30, 0, TimeSpan.Zero);
    public static readonly TimeProvider Clock = new FixedClock(Now);
    public static readonly Actor AdminActor = new(Guid.Parse("00000000-0000-0000-0000-0000000000ad"), "ops-token");
    public static readonly ClaimsPrincipal Admin = new(new ClaimsIdentity(
        [new Claim(ClaimTypes.NameIdentifier, AdminActor.TokenId.ToString()), new Claim(ClaimTypes.Name, AdminActor.Name)], "test"));

    public static void Accepted(ProblemDetails problem) =>
        Assert.True(ReferenceEquals(problem, ApiProblems.None), $"refused with {problem.Status}: {problem.Detail}");

    /// <summary>Asserts a refusal with the status and a detail, and returns it.</summary>
    public static ProblemDetails Refused(ProblemDetails problem, int status)
    {
        Assert.False(ReferenceEquals(problem, ApiProblems.None), "accepted, but a refusal was expected");
        Assert.Equal(status, problem.Status);
        Assert.False(string.IsNullOrWhiteSpace(problem.Detail));
        return problem;
    }

    /// <summary>The fields a 400 names, in order.</summary>
    public static IEnumerable<string> Fields(ProblemDetails problem) =>
        Assert.IsType<HttpValidationProblemDetails>(problem).Errors.Keys.Order();

    public static int Status(IResult result) => Assert.IsAssignableFrom<IStatusCodeHttpResult>(result).StatusCode ?? 200;

    public static T Body<T>(IResult result) => Assert.IsType<T>(Assert.IsAssignableFrom<IValueHttpResult>(result).Value);

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
