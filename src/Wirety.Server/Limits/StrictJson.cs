using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;
using Wirety.Server.Problems;

namespace Wirety.Server.Limits;

/// <summary>
/// The admin API refuses JSON members it does not know (a typo such as <c>fullEncapsulaton</c> would
/// otherwise answer 200 and change nothing). The agent protocol (<c>Wirety.Events.Agent</c>) stays tolerant so
/// an older server accepts a newer agent's extra fields.
/// <para>
/// Two layers. <see cref="UseStrictJson"/> reads an admin request's body before its endpoint does and answers
/// one 400 naming <b>every</b> unknown member by its JSON path (<c>unknown members: fullEncapsulaton,
/// peers[0].nmae</c>), every value of the wrong JSON kind, or — for a body that is not JSON at all — the line
/// and position of the syntax error; never a .NET type name or an exception's text. Under it, the serializer
/// itself disallows unmapped members (<see cref="Apply"/>), so nothing unknown slips through a path the check
/// does not walk.
/// </para>
/// </summary>
public static class StrictJson
{
    public const string TolerantNamespace = "Wirety.Events.Agent";

    public static void Apply(JsonSerializerOptions options) =>
        options.TypeInfoResolver = (options.TypeInfoResolver ?? new DefaultJsonTypeInfoResolver()).WithAddedModifier(Disallow);

    private static void Disallow(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object || info.UnmappedMemberHandling is not null) return;
        if (IsTolerant(info.Type)) return;
        if (info.Properties.Any(p => p.IsExtensionData)) return;
        info.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
    }

    private static bool IsTolerant(Type type) => type.Namespace?.StartsWith(TolerantNamespace, StringComparison.Ordinal) == true;

    /// <summary>
    /// The last net: a 400 problem whose detail is System.Text.Json's exception text (it names .NET types: Wolverine's
    /// "Invalid JSON format" answer, or a JsonException reaching the exception handler) is rewritten to the JSON path
    /// alone. Reached only by what <see cref="UseStrictJson"/> cannot see, e.g. a value no converter accepts.
    /// </summary>
    public static IServiceCollection AddStrictJsonProblems(this IServiceCollection services) =>
        services.Configure<ProblemDetailsOptions>(o =>
        {
            var before = o.CustomizeProblemDetails;
            o.CustomizeProblemDetails = context =>
            {
                before?.Invoke(context);
                Scrub(context.ProblemDetails);
            };
        });

    public static void Scrub(Microsoft.AspNetCore.Mvc.ProblemDetails problem)
    {
        if (problem.Status != StatusCodes.Status400BadRequest || problem.Detail is not { } detail) return;
        var at = detail.IndexOf("Path: $", StringComparison.Ordinal);
        if (at < 0) return;
        var path = detail[(at + "Path: ".Length)..].Split(' ', 2)[0].TrimEnd('.', '|');
        path = path is "$" ? "(body)" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path[1..];
        problem.Title = Problems.ApiProblems.InvalidTitle;
        problem.Type = null;
        problem.Detail = $"The request body does not fit this endpoint: the value at {path} is not one it accepts (wrong type, or out of range).";
    }

    /// <summary>After authorization (an unauthenticated caller learns nothing about the body's shape), before the endpoints.</summary>
    public static IApplicationBuilder UseStrictJson(this IApplicationBuilder app) => app.Use(CheckAsync);

    private static async Task CheckAsync(HttpContext http, RequestDelegate next)
    {
        if (RequestTypeOf(http) is not { } type || IsTolerant(type) || !HasJsonBody(http.Request))
        {
            await next(http);
            return;
        }
        http.Request.EnableBuffering();
        // An empty body (a POST without one) is the endpoint's to judge: usually "a body is required", sometimes fine.
        var first = new byte[1];
        var empty = await http.Request.Body.ReadAsync(first, http.RequestAborted) == 0;
        http.Request.Body.Position = 0;
        if (empty)
        {
            await next(http);
            return;
        }
        var options = http.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var errors = new List<(string Path, string Message)>();
        try
        {
            using var document = await JsonDocument.ParseAsync(http.Request.Body, default, http.RequestAborted);
            Walk(document.RootElement, options.GetTypeInfo(type), "", options, errors);
        }
        catch (JsonException e)
        {
            await ApiProblems.BadRequest(SyntaxError(e)).ToResult().ExecuteAsync(http);
            return;
        }
        if (errors.Count > 0)
        {
            await Problem(errors).ToResult().ExecuteAsync(http);
            return;
        }
        http.Request.Body.Position = 0;
        await next(http);
    }

    /// <summary>The line and position of a syntax error, 1-based as editors count; nothing of the exception's text.</summary>
    public static string SyntaxError(JsonException e) => string.Create(CultureInfo.InvariantCulture,
        $"The request body is not valid JSON: syntax error at line {(e.LineNumber ?? 0) + 1}, position {(e.BytePositionInLine ?? 0) + 1}.");

    private static Microsoft.AspNetCore.Mvc.ProblemDetails Problem(List<(string Path, string Message)> errors)
    {
        var unknown = errors.Where(e => e.Message == Unknown).Select(e => e.Path).ToList();
        var wrong = errors.Where(e => e.Message != Unknown).Select(e => $"{e.Path} {e.Message}").ToList();
        var detail = string.Join("; ", new[]
        {
            unknown.Count > 0 ? $"unknown member{(unknown.Count > 1 ? "s" : "")}: {string.Join(", ", unknown)}" : null,
            wrong.Count > 0 ? string.Join("; ", wrong) : null,
        }.OfType<string>()) + ".";
        var problem = new ValidationErrors();
        foreach (var (path, message) in errors) problem.Add(path, message == Unknown ? "unknown member" : $"{path} {message}");
        var details = problem.ToProblem();
        details.Detail = detail;
        return details;
    }

    private const string Unknown = "";

    /// <summary>The endpoint's JSON body type, as Wolverine.Http declares it for OpenAPI (null: the endpoint reads no JSON body).</summary>
    private static Type? RequestTypeOf(HttpContext http) =>
        http.GetEndpoint()?.Metadata.GetMetadata<IAcceptsMetadata>() is { RequestType: { } type } accepts
        && accepts.ContentTypes.Any(c => c.Contains("json", StringComparison.OrdinalIgnoreCase)) ? type : null;

    private static bool HasJsonBody(HttpRequest request) =>
        request.ContentLength is null or > 0 && (request.ContentType is null || request.HasJsonContentType());

    /// <summary>Compares a JSON value with what the serializer would map it to, recording every member it does not know and every value of the wrong kind.</summary>
    private static void Walk(JsonElement value, JsonTypeInfo info, string path, JsonSerializerOptions options, List<(string Path, string Message)> errors)
    {
        if (errors.Count >= 50) return; // enough to fix; a body of nothing but typos does not get to make a huge answer
        var type = Nullable.GetUnderlyingType(info.Type) ?? info.Type;
        var nullable = !info.Type.IsValueType || Nullable.GetUnderlyingType(info.Type) is not null;
        if (value.ValueKind == JsonValueKind.Null)
        {
            if (!nullable) errors.Add((Path(path), "cannot be null"));
            return;
        }
        if (type == typeof(object) || type == typeof(JsonElement) || type == typeof(JsonDocument) || type.Namespace == "System.Text.Json.Nodes") return;
        switch (info.Kind)
        {
            case JsonTypeInfoKind.Object:
                if (value.ValueKind != JsonValueKind.Object) { errors.Add((Path(path), "must be an object")); return; }
                if (IsTolerant(type)) return;
                var comparer = options.PropertyNameCaseInsensitive ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;
                var properties = info.Properties.GroupBy(p => p.Name, comparer).ToDictionary(g => g.Key, g => g.First(), comparer);
                var tolerant = info.Properties.Any(p => p.IsExtensionData) || info.UnmappedMemberHandling == JsonUnmappedMemberHandling.Skip;
                foreach (var member in value.EnumerateObject())
                {
                    var memberPath = path.Length == 0 ? member.Name : $"{path}.{member.Name}";
                    if (properties.TryGetValue(member.Name, out var property))
                        Walk(member.Value, options.GetTypeInfo(property.PropertyType), memberPath, options, errors);
                    else if (!tolerant)
                        errors.Add((memberPath, Unknown));
                }
                return;
            case JsonTypeInfoKind.Enumerable:
                if (value.ValueKind != JsonValueKind.Array) { errors.Add((Path(path), "must be an array")); return; }
                if (info.ElementType is not { } element) return;
                var elementInfo = options.GetTypeInfo(element);
                var index = 0;
                foreach (var item in value.EnumerateArray()) Walk(item, elementInfo, $"{path}[{index++}]", options, errors);
                return;
            case JsonTypeInfoKind.Dictionary:
                if (value.ValueKind != JsonValueKind.Object) { errors.Add((Path(path), "must be an object")); return; }
                if (info.ElementType is not { } valueType) return;
                var valueInfo = options.GetTypeInfo(valueType);
                foreach (var member in value.EnumerateObject()) Walk(member.Value, valueInfo, $"{path}.{member.Name}", options, errors);
                return;
            default:
                if (ExpectedKind(type) is { } expected && !expected.Kinds.Contains(value.ValueKind)) errors.Add((Path(path), "must be " + expected.Name));
                else if (OutOfRange(value, type) is { } range) errors.Add((Path(path), range));
                return;
        }
    }

    /// <summary>A value of the right JSON kind that still does not fit: a number too large, an id or time that does not parse.</summary>
    private static string? OutOfRange(JsonElement value, Type type)
    {
        static string Whole(long min, ulong max) => string.Create(CultureInfo.InvariantCulture, $"must be a whole number from {min} to {max}");
        if (value.ValueKind == JsonValueKind.Number)
            return type == typeof(int) ? (value.TryGetInt32(out _) ? null : Whole(int.MinValue, int.MaxValue))
                : type == typeof(long) ? (value.TryGetInt64(out _) ? null : Whole(long.MinValue, long.MaxValue))
                : type == typeof(short) ? (value.TryGetInt16(out _) ? null : Whole(short.MinValue, (ulong)short.MaxValue))
                : type == typeof(byte) ? (value.TryGetByte(out _) ? null : Whole(0, byte.MaxValue))
                : type == typeof(uint) ? (value.TryGetUInt32(out _) ? null : Whole(0, uint.MaxValue))
                : type == typeof(ulong) ? (value.TryGetUInt64(out _) ? null : Whole(0, ulong.MaxValue))
                : type == typeof(ushort) ? (value.TryGetUInt16(out _) ? null : Whole(0, ushort.MaxValue))
                : type == typeof(sbyte) ? (value.TryGetSByte(out _) ? null : Whole(sbyte.MinValue, (ulong)sbyte.MaxValue))
                : type == typeof(decimal) ? (value.TryGetDecimal(out _) ? null : "must be a smaller number")
                : null;
        if (value.ValueKind == JsonValueKind.String)
            return type == typeof(Guid) ? (value.TryGetGuid(out _) ? null : "must be an id (a GUID such as 01234567-89ab-cdef-0123-456789abcdef)")
                : type == typeof(DateTimeOffset) || type == typeof(DateTime) ? (value.TryGetDateTimeOffset(out _) ? null : "must be an ISO-8601 time such as 2026-05-01T14:02:00Z")
                : type.IsEnum ? (Enum.GetNames(type).Any(n => string.Equals(n, value.GetString(), StringComparison.OrdinalIgnoreCase)) ? null
                    : "must be one of: " + string.Join(", ", Enum.GetNames(type).Select(JsonNamingPolicy.CamelCase.ConvertName)))
                : null;
        return null;
    }

    private static string Path(string path) => path.Length == 0 ? "(body)" : path;

    private static readonly JsonValueKind[] Text = [JsonValueKind.String], Number = [JsonValueKind.Number], Boolean = [JsonValueKind.True, JsonValueKind.False];

    /// <summary>The JSON kind a scalar is written as here (enums as camelCase strings: Program's converter refuses integers).</summary>
    private static (string Name, JsonValueKind[] Kinds)? ExpectedKind(Type type) =>
        type == typeof(string) || type == typeof(Guid) || type == typeof(DateTimeOffset) || type == typeof(DateTime) || type == typeof(TimeSpan)
            || type == typeof(DateOnly) || type == typeof(TimeOnly) || type.IsEnum ? ("a string", Text)
        : type == typeof(bool) ? ("true or false", Boolean)
        : type.IsPrimitive || type == typeof(decimal) ? ("a number", Number)
        : null;
}
