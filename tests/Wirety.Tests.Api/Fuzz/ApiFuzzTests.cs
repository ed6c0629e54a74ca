using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Wirety.Tests.Api.Agents;
using Wirety.Tests.Api.Harness;
using Xunit.Abstractions;

namespace Wirety.Tests.Api.Fuzz;

/// <summary>
/// The schema-driven fuzzer: for every operation in <c>/api/v1/openapi.json</c>, generated requests (valid, boundary
/// and malformed) sent as an admin, analyst and viewer token, as an agent session and with no credential. Every answer
/// must be below 500; every answer must be documented for its operation, and its body must match the documented schema
/// (<see cref="SchemaValidator"/>): a success body the success schema, a refusal (≥ 400) the documented RFC 7807 problem
/// (carrying its status). A refusal must append no event.
/// Seeds are fixed (per operation and iteration), so a run is repeatable; <c>FUZZ_ITERATIONS</c> (default 6) sets how
/// many requests each operation gets per credential — <c>make fuzz</c> runs a long version.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class ApiFuzzTests(WiretyApp app, ITestOutputHelper output) : AgentTest(app)
{
    private const string AuditedRefusal = "enrollment_rejected";

    private static int Iterations => int.TryParse(Environment.GetEnvironmentVariable("FUZZ_ITERATIONS"), out var n) && n > 0 ? n : 6;

    [Fact]
    public async Task no_generated_request_gets_a_5xx_an_undocumented_answer_or_an_event_on_refusal()
    {
        var document = await BodyAsync(await App.Client(null).GetAsync("/api/v1/openapi.json"));
        var operations = DocumentedOperation.AllIn(document);
        Assert.True(operations.Count > 30, $"only {operations.Count} operations documented");
        var validator = new SchemaValidator(document);

        var tried = 0;
        var successOperations = new HashSet<string>(StringComparer.Ordinal);
        var checkedBodies = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var statuses = new SortedDictionary<int, int>();
        var failures = new List<string>();
        foreach (var operation in operations)
        {
            // Fresh data per operation: a valid DELETE of the fixture must not starve the operations after it.
            await App.ResetAsync();
            var (fixture, credentials) = await FixtureAsync();
            var generator = new RequestGenerator(document, fixture);
            for (var iteration = 0; iteration < Iterations; iteration++)
            {
                var seed = Seed(operation.Key, iteration);
                // A valid delete only last, so the earlier iterations still find what they name.
                var request = generator.Generate(operation, seed, allowValid: operation.Method != "DELETE" || iteration == Iterations - 1);
                foreach (var (who, client) in credentials)
                {
                    tried++;
                    var failure = await SendAndCheckAsync(client, request, who == "agent", Answering(operations, request), validator);
                    statuses[failure.Status] = statuses.GetValueOrDefault(failure.Status) + 1;
                    if (failure.Checked is { } kind) checkedBodies[kind] = checkedBodies.GetValueOrDefault(kind) + 1;
                    if (failure.Status is >= 200 and < 300 && Answering(operations, request) == operation) successOperations.Add(operation.Key);
                    if (failure.Problem is { } problem)
                        failures.Add($"{problem} — as {who}, seed {seed} ({operation.Key} #{iteration}): {request}");
                }
            }
        }

        var fiveHundreds = statuses.Where(s => s.Key >= 500).Sum(s => s.Value);
        output.WriteLine($"fuzz: {tried} requests over {operations.Count} operations ({Iterations} per operation and credential); "
            + $"5xx: {fiveHundreds}; statuses: {string.Join(", ", statuses.Select(s => $"{s.Key}×{s.Value}"))}");
        output.WriteLine($"fuzz: bodies checked against the documented schema: {string.Join(", ", checkedBodies.Select(c => $"{c.Key} {c.Value}"))}; "
            + $"operations with a 2xx body checked: {successOperations.Count} of {operations.Count}");
        Console.WriteLine($"fuzz: {tried} requests, {fiveHundreds} 5xx, {checkedBodies.Values.Sum()} bodies checked against the schema, {failures.Count} failures");
        Assert.True(failures.Count == 0, $"{failures.Count} of {tried} fuzz requests failed:\n" + string.Join("\n", failures.Take(60)));
    }

    private static readonly JsonElement AnyProblem = JsonDocument.Parse("""{ "$ref": "#/components/schemas/ProblemDetails" }""").RootElement;

    /// <summary>
    /// The operation a request's URL really reaches. A bad path id can route elsewhere: an empty one
    /// (<c>/routes/</c>) reaches the list, <c>..</c> is removed with the segment before it (<c>/policies/..</c> is the
    /// network). Literal segments beat parameters, as in the server's routing; null when no operation matches.
    /// </summary>
    private static DocumentedOperation? Answering(IReadOnlyList<DocumentedOperation> operations, FuzzRequest request)
    {
        var path = new Uri(new Uri("http://fuzz.invalid"), request.Url).AbsolutePath.TrimEnd('/');
        var segments = path.Split('/');
        return operations.Where(o => o.Method == request.Method)
            .Select(o => (Operation: o, Template: o.Path.Split('/')))
            .Where(x => x.Template.Length == segments.Length && x.Template.Zip(segments).All(p =>
                p.First.StartsWith('{') ? p.Second.Length > 0 : string.Equals(p.First, Uri.UnescapeDataString(p.Second), StringComparison.OrdinalIgnoreCase)))
            .OrderByDescending(x => x.Template.Count(t => !t.StartsWith('{')))
            .Select(x => x.Operation).FirstOrDefault();
    }

    /// <summary>
    /// Sends one request and checks the answer: below 500, documented for the operation, its body matching the documented
    /// schema, and for a refusal a problem with its status and no event appended. <c>Checked</c> says which kind of body
    /// was checked against a schema (for the report).
    /// </summary>
    private async Task<(int Status, string? Problem, string? Checked)> SendAndCheckAsync(
        HttpClient client, FuzzRequest request, bool tracked, DocumentedOperation? operation, SchemaValidator validator)
    {
        var before = await App.EventCountAsync();
        HttpResponseMessage response;
        try
        {
            using var message = new HttpRequestMessage(new HttpMethod(request.Method), request.Url);
            if (request.Body is not null)
            {
                message.Content = new ByteArrayContent(request.Body);
                message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
            }
            // Requests from the agent may cascade work (a heartbeat's sighting): wait for it, so its events are not
            // counted against the next request.
            response = tracked ? await AndCascadesAsync(() => client.SendAsync(message)) : await client.SendAsync(message);
        }
        catch (Exception e)
        {
            return (599, $"the request threw {e.GetType().Name}: {e.Message}", null);
        }
        var status = (int)response.StatusCode;
        var text = await response.Content.ReadAsStringAsync();
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (status >= 500) return (status, $"{status}: {Short(text)}", null);

        var documented = operation?.ResponseFor(status);
        if (status < 400)
        {
            if (operation is null) return (status, $"{status} from a URL no documented operation matches: {Short(text)}", null);
            if (documented is null) return (status, $"{status} is not a documented answer of {operation.Key}: {Short(text)}", null);
            if (!documented.Value.TryGetProperty("content", out var content))
                return text.Length == 0 ? (status, null, null) : (status, $"{status} is documented without a body but has one: {Short(text)}", null);
            if (mediaType is null || !content.TryGetProperty(mediaType, out var media))
                return (status, $"{status} answered as {mediaType ?? "no content type"}, documented as {string.Join(", ", content.EnumerateObject().Select(c => c.Name))}", null);
            var mismatch = CheckBody(validator, text, mediaType, media);
            return (status, mismatch is null ? null : $"{status} body does not match the documented schema: {mismatch} — body: {Short(text)}", $"{status / 100}xx {mediaType}");
        }

        if (mediaType != "application/problem+json")
            return (status, $"{status} answered as {mediaType ?? "no content type"}, not a problem: {Short(text)}", null);
        try
        {
            using var problem = JsonDocument.Parse(text);
            if (!problem.RootElement.TryGetProperty("status", out var s) || s.GetInt32() != status)
                return (status, $"{status} problem without a matching status: {Short(text)}", null);
        }
        catch (JsonException)
        {
            return (status, $"{status} problem that is not JSON: {Short(text)}", null);
        }
        JsonElement problemMedia;
        if (operation is null)
            // No operation has this URL: the server's own 404/405 (or 401/403 of the fallback authorization, which runs
            // first), which the document cannot list; still a problem.
            problemMedia = status is 401 or 403 or 404 or 405 ? JsonDocument.Parse($$"""{ "schema": {{AnyProblem.GetRawText()}} }""").RootElement
                : default;
        else if (documented is null || !documented.Value.TryGetProperty("content", out var problemContent)
                 || !problemContent.TryGetProperty("application/problem+json", out problemMedia))
            return (status, $"{status} is not a documented problem of {operation.Key}: {Short(text)}", null);
        if (problemMedia.ValueKind != JsonValueKind.Object)
            return (status, $"{status} from a URL no documented operation matches: {Short(text)}", null);
        var problemMismatch = CheckBody(validator, text, mediaType, problemMedia);
        if (problemMismatch is not null) return (status, $"{status} problem does not match the documented schema: {problemMismatch} — body: {Short(text)}", "4xx problem");

        var after = await App.EventCountAsync();
        if (after == before) return (status, null, "4xx problem");
        var appended = await App.LatestEventTypesAsync((int)(after - before));
        // The one refusal that is recorded on purpose: a refused enrollment is audited (EnrollmentRejected).
        return appended.All(e => e.StartsWith(AuditedRefusal + " ", StringComparison.Ordinal)) ? (status, null, "4xx problem")
            : (status, $"refused with {status} but appended {after - before} event(s): {string.Join(", ", appended)}", "4xx problem");
    }

    /// <summary>The first mismatches of a body against the schema of its documented media type, or null when it matches.</summary>
    private static string? CheckBody(SchemaValidator validator, string text, string mediaType, JsonElement media)
    {
        if (!media.TryGetProperty("schema", out var schema)) return null;
        if (!mediaType.EndsWith("json", StringComparison.Ordinal))
            return schema.TryGetProperty("type", out var t) && t.GetString() == "string" ? null : $"a {mediaType} body documented with a non-string schema";
        JsonElement body;
        try
        {
            body = JsonDocument.Parse(text).RootElement;
        }
        catch (JsonException e)
        {
            return $"not JSON ({e.Message})";
        }
        var errors = validator.Check(body, schema);
        return errors.Count == 0 ? null : string.Join("; ", errors.Take(5)) + (errors.Count > 5 ? $" (+{errors.Count - 5} more)" : "");
    }

    /// <summary>A network with a jump, an enrolled agent's peer in a group, a policy and a route; tokens of each role.</summary>
    private async Task<(FuzzFixture, IReadOnlyList<(string Who, HttpClient Client)>)> FixtureAsync()
    {
        var (net, jump) = await NetworkWithJumpAsync();
        var agent = await EnrollAsync(await TokenForAsync(net, "agent"));
        var spareEnrollment = await TokenForAsync(net, "spare");
        var url = $"/api/v1/networks/{net}";
        async Task<Guid> Created(string path, object body)
        {
            var response = await Admin.PostAsJsonAsync(path, body);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"fixture {path}: {(int)response.StatusCode} {text}");
            return JsonDocument.Parse(text).RootElement.GetProperty("id").GetGuid();
        }
        var group = await Created($"{url}/groups", new { name = "ops" });
        Assert.True((await Admin.PutAsJsonAsync($"{url}/groups/{group}/members", new { peerIds = new[] { agent.PeerId } })).IsSuccessStatusCode);
        var policy = await Created($"{url}/policies", new { name = "ssh", sources = new { peers = new[] { agent.PeerId } }, destinations = new { groups = new[] { group } }, ports = new[] { "tcp/22" } });
        var route = await Created($"{url}/routes", new { cidr = "192.168.50.0/24", via = agent.PeerId, groups = new[] { group } });
        async Task<(Guid Id, string Secret)> Token(string role)
        {
            var body = await BodyAsync(await Admin.PostAsJsonAsync("/api/v1/tokens", new { name = "fuzz-" + role + Guid.NewGuid().ToString("N")[..6], role }));
            return (body.GetProperty("id").GetGuid(), body.GetProperty("token").GetString()!);
        }
        var analyst = await Token("analyst");
        var viewer = await Token("viewer");
        var spare = await Token("viewer");
        return (new FuzzFixture(net, jump, agent.PeerId, group, policy, route, spare.Id, spareEnrollment),
        [
            ("anonymous", App.Client(null)), ("agent", agent.Client), ("viewer", App.Client(viewer.Secret)),
            ("analyst", App.Client(analyst.Secret)), ("admin", Admin),
        ]);
    }

    /// <summary>FNV-1a over the operation and iteration: the same seed on every run and machine.</summary>
    private static ulong Seed(string key, int iteration)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes($"{key}#{iteration}")) hash = (hash ^ b) * 1099511628211UL;
        return hash;
    }

    private static string Short(string text) => text.Length > 400 ? text[..400] + "…" : text;
}
