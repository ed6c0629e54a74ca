using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.ApiDescription;

public sealed class ApiDescriptionTests(WiretyApp app) : ApiTest(app)
{
    /// <summary>Every mapped HTTP endpoint under /api as "METHOD /route" (route constraints dropped, as OpenAPI writes them).</summary>
    private IReadOnlyList<string> MappedApiOperations() =>
        App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/api/", StringComparison.Ordinal)
                        && e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods is { Count: > 0 })
            .Select(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods[0] + " " + Regex.Replace(e.RoutePattern.RawText!, @"\{([^}:?]+)[^}]*\}", "{$1}"))
            .Where(k => k is not ("GET /api/v1/openapi.json") && !k.StartsWith("GET /api/docs", StringComparison.Ordinal))
            .Distinct().OrderBy(k => k, StringComparer.Ordinal).ToList();

    private async Task<JsonElement> DocumentAsync()
    {
        var response = await App.Client(null).GetAsync("/api/v1/openapi.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await BodyAsync(response);
    }

    private static IEnumerable<(string Key, JsonElement Operation)> Operations(JsonElement document) =>
        document.GetProperty("paths").EnumerateObject().SelectMany(path => path.Value.EnumerateObject()
            .Where(o => o.Name is "get" or "post" or "put" or "patch" or "delete")
            .Select(o => (o.Name.ToUpperInvariant() + " " + path.Name, o.Value)));

    [Fact]
    public async Task every_mapped_api_endpoint_is_in_the_openapi_document_anonymously()
    {
        var documented = Operations(await DocumentAsync()).Select(o => o.Key).ToHashSet();
        var mapped = MappedApiOperations();
        Assert.True(mapped.Count > 30, $"only {mapped.Count} endpoints found");
        var missing = mapped.Where(k => !documented.Contains(k)).ToList();
        Assert.True(missing.Count == 0, "mapped but not in /api/v1/openapi.json:\n" + string.Join("\n", missing));
    }

    [Fact]
    public async Task every_operation_names_its_role_and_its_problem_responses()
    {
        foreach (var (key, operation) in Operations(await DocumentAsync()))
        {
            var role = operation.GetProperty("x-wirety-role").GetString();
            Assert.Contains(role, new[] { "admin", "analyst", "viewer", "agent", "anonymous" });
            var responses = operation.GetProperty("responses");
            // A browser hand-off (GET /api/v1/auth/oidc/login) succeeds with a redirect.
            Assert.True(responses.EnumerateObject().Any(r => r.Name.StartsWith('2') || r.Name == "302"), $"{key} documents no success response");
            if (role != "anonymous") AssertProblem(key, responses, "401");
            if (role is "admin" or "analyst") AssertProblem(key, responses, "403");
            if (key.Contains('{')) AssertProblem(key, responses, "404");
        }
    }

    [Fact]
    public async Task every_success_response_has_its_real_type_not_an_untyped_result()
    {
        var document = await DocumentAsync();
        Assert.DoesNotContain("IResult", document.GetRawText());
        var schemas = document.GetProperty("components").GetProperty("schemas");
        foreach (var name in new[] { "NetworkView", "PeerView", "GroupView", "PolicyView", "RouteView", "Incident", "EnrollResponse", "ProblemDetails" })
            Assert.True(schemas.TryGetProperty(name, out _), $"no schema {name}");
        var created = Operations(document).Single(o => o.Key == "POST /api/v1/networks").Operation.GetProperty("responses").GetProperty("201");
        Assert.Equal("#/components/schemas/NetworkView", created.GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
    }

    [Fact]
    public async Task the_roles_in_the_document_match_the_endpoints_rules()
    {
        var roles = Operations(await DocumentAsync()).ToDictionary(o => o.Key, o => o.Operation.GetProperty("x-wirety-role").GetString());
        Assert.Equal("admin", roles["POST /api/v1/networks"]);
        Assert.Equal("viewer", roles["GET /api/v1/networks"]);
        Assert.Equal("analyst", roles["GET /api/v1/events"]);
        Assert.Equal("anonymous", roles["POST /api/v1/agent/enroll"]);
        Assert.Equal("agent", roles["POST /api/v1/agent/heartbeat"]);
        Assert.Equal("agent", roles["POST /api/v1/agent/rotate-key"]);
        Assert.Equal("admin", roles["PUT /api/v1/networks/{networkId}/key-rotation"]);
    }

    [Fact]
    public async Task the_reference_page_is_served_at_api_docs()
    {
        var response = await App.Client(null).GetAsync("/api/docs");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("openapi.json", html);
    }

    private static void AssertProblem(string key, JsonElement responses, string status)
    {
        Assert.True(responses.TryGetProperty(status, out var response), $"{key} does not document its {status} problem");
        Assert.True(response.GetProperty("content").TryGetProperty("application/problem+json", out _), $"{key}: {status} is not application/problem+json");
    }
}
