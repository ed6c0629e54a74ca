using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;

namespace Wirety.Tests.Api.Fuzz;

/// <summary>The ids of the data a fuzz round runs against (so that valid requests reach the handlers).</summary>
public sealed record FuzzFixture(Guid Network, Guid Jump, Guid Peer, Guid Group, Guid Policy, Guid Route, Guid Token, string EnrollmentToken);

/// <summary>A generated request: what is sent, and a label saying how it was made (for the report).</summary>
public sealed record FuzzRequest(string Method, string Url, byte[]? Body, string? ContentType, string Label)
{
    public override string ToString() =>
        $"{Method} {Url} [{Label}]" + (Body is null ? "" : $" {ContentType}: {Preview(Body)}");

    private static string Preview(byte[] body)
    {
        var text = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 300));
        return body.Length > 300 ? $"{text}… ({body.Length} bytes)" : text;
    }
}

/// <summary>
/// Requests for one documented operation, valid, boundary and malformed, drawn with CsCheck generators from a PCG seeded
/// per operation and iteration (so a failure names the seed that reproduces it). The schema says the shape; the
/// Wirety-specific part is which values are plausible (a CIDR for <c>cidr</c>, a fixture id for <c>networkId</c>).
/// </summary>
public sealed class RequestGenerator(JsonElement document, FuzzFixture fixture)
{
    private static readonly string[] Nasty =
    [
        "", " ", "\n", "name\n", "\0", "a\u0000b", "\u0007\u001b[31m", "\t\r\n", "\u202Eevil", "💥🔥", "Ünïcödé", "\uFEFF", "\uD800",
        "../../etc/passwd", "%00", "%2e%2e%2f", "' or 1=1 --", "<script>alert(1)</script>", "${jndi:x}", "null", "true", "-1", "0",
        "00000000-0000-0000-0000-000000000000", "10.10.0.0/33", "256.1.1.1", "::", "0.0.0.0/0", "1.2.3.4:99999", "+51820", " 51820",
        "tcp/0", "udp/70000", "icmp/1", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "-00:00:01", "99999999.00:00:00",
    ];
    private static readonly string[] RawNumbers =
        ["0", "-1", "1", "-0", "1.5", "1e400", "-1e400", "2147483647", "2147483648", "-2147483649", "9223372036854775807", "9223372036854775808", "99999999999999999999999999"];
    private static readonly string[] WrongTypes = ["123", "true", "[]", "{}", "\"str\"", "null", "[[[1]]]", "{\"a\":{\"b\":1}}", "-5.5"];
    private static readonly string[] RawBodies =
        ["null", "[]", "\"x\"", "42", "true", "{", "{\"a\":", "{}{}", "{\"name\":\"x\",}", "\u00ff\u00fe", "{'name':'x'}", "[{}]", ""];
    private static readonly string[] ContentTypes =
        ["text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=utf-16", "application/octet-stream"];
    private static readonly string[] BadIds =
        ["00000000-0000-0000-0000-000000000000", "not-a-guid", "1", "-1", "0", "%20", "..", "ffffffff-ffff-ffff-ffff-ffffffffffffff", "{guid}",
         "00000000000000000000000000000000", "🙂", "x%00y", "9223372036854775808"];
    /// <summary>Query names some endpoints read by hand (event filters, paging, time travel) and the document cannot list.</summary>
    private static readonly string[] ExtraQuery = ["networkId", "peerId", "from", "to", "type", "after", "limit", "includeArchived", "at", "force", "state"];

    private static readonly Gen<string> NastyString = Gen.Frequency(
        (6, Gen.OneOf(Nasty)),
        (2, Gen.String),
        (1, Gen.Char[(char)0, (char)31].Array[1, 8].Select(c => new string(c))),
        (1, Gen.Int[1_000, 70_000].Select(n => new string('x', n))));
    /// <summary>
    /// Nasty strings for a path segment, without NUL: the in-memory test client refuses a path with a NUL before it is
    /// sent (Kestrel answers such a request 400 itself), so it would test the harness, not the server.
    /// </summary>
    private static readonly Gen<string> PathString = NastyString.Select(s => s.Replace("\0", "").Replace("\u0000", "")).Select(s => s.Length > 200 ? s[..200] : s);
    private static readonly Gen<int> Mutation = Gen.Frequency(
        (3, Gen.Const(0)),  // valid
        (2, Gen.Const(1)),  // a bad path id
        (3, Gen.Const(2)),  // a nasty string in a field
        (2, Gen.Const(3)),  // a boundary number in a field
        (2, Gen.Const(4)),  // a wrong JSON type in a field
        (2, Gen.Const(5)),  // a malformed or wrongly shaped body
        (1, Gen.Const(6)),  // deep nesting
        (1, Gen.Const(7)),  // an oversized body
        (2, Gen.Const(8)),  // a wrong content type
        (2, Gen.Const(9)),  // bad query values
        (1, Gen.Const(10))); // unknown members and nulls everywhere

    public FuzzRequest Generate(DocumentedOperation operation, ulong seed, bool allowValid)
    {
        var pcg = new PCG(1, seed);
        T Draw<T>(Gen<T> gen) => gen.Generate(pcg, null, out _);
        var mutation = Draw(Mutation);
        if (mutation == 0 && !allowValid) mutation = 2;
        if (operation.BodySchema is null && mutation is >= 2 and <= 8 and not 1) mutation = Draw(Gen.OneOf(1, 9, 9, 5));
        if (operation.PathParameters.Count == 0 && mutation == 1) mutation = 9;

        var badParameter = mutation == 1 ? Draw(Gen.OneOf(operation.PathParameters.ToArray())) : null;
        var path = operation.Path;
        foreach (var name in operation.PathParameters)
            path = path.Replace("{" + name + "}", Uri.EscapeDataString(name == badParameter
                ? Draw(Gen.Frequency((3, Gen.OneOf(BadIds)), (1, Gen.Guid.Select(g => g.ToString())), (1, PathString)))
                : ValidId(name).ToString()));

        var query = new List<string>();
        foreach (var (name, querySchema) in operation.QueryParameters)
            if (Draw(Gen.Bool)) query.Add(Q(name, mutation == 9 ? Draw(NastyString.Select(s => s.Length > 2000 ? s[..2000] : s)) : PlausibleQuery(name, querySchema)));
        if (mutation == 9 || (operation.Method == "GET" && Draw(Gen.Int[0, 3]) == 0))
            foreach (var name in Draw(Gen.OneOf(ExtraQuery).Array[1, 4]))
                query.Add(Q(name, Draw(Gen.Frequency((2, NastyString.Select(s => s.Length > 2000 ? s[..2000] : s)), (1, Gen.OneOf(RawNumbers)), (1, Gen.Guid.Select(g => g.ToString()))))));
        var url = path + (query.Count > 0 ? "?" + string.Join("&", query) : "");

        if (operation.BodySchema is not { } schema)
            return new FuzzRequest(operation.Method, url, null, null, mutation == 1 ? $"bad {badParameter}" : mutation == 9 ? "bad query" : "valid");

        var body = (JsonObject)Plausible(schema, "", pcg, depth: 0)!;
        string label;
        byte[] bytes;
        var contentType = "application/json";
        switch (mutation)
        {
            case 2 or 3 or 4 when body.Count > 0:
            {
                var field = Draw(Gen.OneOf(body.Select(p => p.Key).ToArray()));
                var raw = mutation switch
                {
                    2 => JsonSerializer.Serialize(Draw(NastyString)),
                    3 => Draw(Gen.OneOf(RawNumbers)),
                    _ => Draw(Gen.OneOf(WrongTypes)),
                };
                body[field] = null;
                bytes = Encoding.UTF8.GetBytes(body.ToJsonString().Replace($"\"{field}\":null", $"\"{field}\":{raw}"));
                label = $"{(mutation == 2 ? "nasty string" : mutation == 3 ? "boundary number" : "wrong type")} in {field}";
                break;
            }
            case 5:
                bytes = Encoding.UTF8.GetBytes(Draw(Gen.OneOf(RawBodies)));
                label = "malformed body";
                break;
            case 6:
            {
                var depth = Draw(Gen.Int[65, 5_000]);
                var field = body.Count > 0 ? Draw(Gen.OneOf(body.Select(p => p.Key).ToArray())) : "x";
                body[field] = null;
                bytes = Encoding.UTF8.GetBytes(body.ToJsonString().Replace($"\"{field}\":null", $"\"{field}\":" + new string('[', depth) + new string(']', depth)));
                label = $"nesting {depth} deep in {field}";
                break;
            }
            case 7:
            {
                var field = body.Count > 0 ? Draw(Gen.OneOf(body.Select(p => p.Key).ToArray())) : "x";
                body[field] = new string('A', Draw(Gen.Int[1_100_000, 2_100_000]));
                bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
                label = $"oversized {field} ({bytes.Length} bytes)";
                break;
            }
            case 8:
                contentType = Draw(Gen.OneOf(ContentTypes));
                bytes = contentType.Contains("utf-16") ? Encoding.Unicode.GetBytes(body.ToJsonString()) : Encoding.UTF8.GetBytes(body.ToJsonString());
                label = "content type " + contentType;
                break;
            case 10:
                foreach (var key in body.Select(p => p.Key).ToList()) if (Draw(Gen.Bool)) body[key] = null;
                body[Draw(Gen.OneOf("fullEncapsulaton", "nmae", "__proto__", "$type", "id", "version"))] = Draw(Gen.OneOf(WrongTypes)) is var w ? JsonNode.Parse(w) : null;
                bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
                label = "nulls and unknown members";
                break;
            default:
                bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
                label = mutation == 1 ? $"bad {badParameter}" : mutation == 9 ? "bad query" : "valid";
                break;
        }
        return new FuzzRequest(operation.Method, url, bytes, contentType, label);
    }

    private static string Q(string name, string value) => Uri.EscapeDataString(name) + "=" + Uri.EscapeDataString(value);

    private Guid ValidId(string name) => name switch
    {
        "networkId" => fixture.Network,
        "peerId" => fixture.Peer,
        "groupId" => fixture.Group,
        "policyId" => fixture.Policy,
        "routeId" => fixture.Route,
        "tokenId" => fixture.Token,
        _ => Guid.CreateVersion7(),
    };

    private string PlausibleQuery(string name, JsonElement schema) => name switch
    {
        "networkId" => fixture.Network.ToString(),
        "peerId" => fixture.Peer.ToString(),
        "from" => "1",
        "to" => "2",
        "at" => "2026-01-01T00:00:00Z",
        "state" => "open",
        _ => schema.ValueKind == JsonValueKind.Object && Types(schema).Contains("boolean") ? "true" : "1",
    };

    /// <summary>A value the operation would plausibly accept for a field: by its name where Wirety gives it meaning, else by its schema.</summary>
    private JsonNode? Plausible(JsonElement schema, string name, PCG pcg, int depth)
    {
        T Draw<T>(Gen<T> gen) => gen.Generate(pcg, null, out _);
        schema = DocumentedOperation.Resolve(document, schema);
        switch (name)
        {
            case "name": return "fuzz-" + Draw(Gen.Char['a', 'z'].Array[3, 8].Select(c => new string(c)));
            case "cidr": return Draw(Gen.OneOf("10.77.0.0/24", "192.168.50.0/24", "172.16.9.0/28"));
            case "domain": return "corp.example";
            case "dns": return new JsonArray("10.10.0.1");
            case "mtu": return 1420;
            case "kind": return Draw(Gen.OneOf("dynamic", "static", "jump"));
            case "endpoint": return "198.18.0.9:51820";
            case "listenPort": return 51820;
            case "address": return null;
            case "additionalAllowedIps": return new JsonArray("192.168.77.0/24");
            case "role": return Draw(Gen.OneOf("admin", "analyst", "viewer"));
            case "expiresAt": return null;
            case "publicKey": return Convert.ToBase64String(Draw(Gen.Byte.Array[32]));
            case "token": return fixture.EnrollmentToken;
            case "hostname": return "host";
            case "via": return fixture.Jump.ToString();
            case "groups": return new JsonArray(fixture.Group.ToString());
            case "peers" or "peerIds": return new JsonArray(fixture.Peer.ToString());
            case "ports": return new JsonArray("tcp/22");
            case "defaultPolicy": return Draw(Gen.OneOf("allow", "deny"));
            case "sessionConflictWindow" or "sharedConfigWindow": return "00:05:00";
            case "endpoints": return new JsonArray("198.18.0.11:51001");
            case "remove": return new JsonArray();
        }
        if (schema.ValueKind != JsonValueKind.Object) return null;
        if (schema.TryGetProperty("enum", out var values)) return JsonNode.Parse(values[Draw(Gen.Int[0, values.GetArrayLength() - 1])].GetRawText());
        if (schema.TryGetProperty("oneOf", out var oneOf))
            return Plausible(oneOf.EnumerateArray().FirstOrDefault(s => !Types(DocumentedOperation.Resolve(document, s)).Contains("null") || s.TryGetProperty("$ref", out _)), name, pcg, depth);
        var types = Types(schema);
        if (types.Contains("object") || schema.TryGetProperty("properties", out _))
        {
            var obj = new JsonObject();
            if (depth < 4 && schema.TryGetProperty("properties", out var properties))
                foreach (var p in properties.EnumerateObject()) obj[p.Name] = Plausible(p.Value, p.Name, pcg, depth + 1);
            return obj;
        }
        if (types.Contains("array"))
            return depth < 4 && schema.TryGetProperty("items", out var items) && Draw(Gen.Bool) ? new JsonArray(Plausible(items, name, pcg, depth + 1)) : new JsonArray();
        if (types.Contains("boolean")) return Draw(Gen.Bool);
        if (types.Contains("integer")) return Draw(Gen.Int[0, 100]);
        if (types.Contains("string"))
            return schema.TryGetProperty("format", out var f) ? f.GetString() switch
            {
                "uuid" => Guid.CreateVersion7().ToString(),
                "date-time" => "2026-06-01T00:00:00Z",
                _ => "fuzz",
            } : "fuzz";
        return null;
    }

    private static IReadOnlyList<string> Types(JsonElement schema) =>
        !schema.TryGetProperty("type", out var t) ? []
        : t.ValueKind == JsonValueKind.Array ? t.EnumerateArray().Select(x => x.GetString()!).ToList()
        : [t.GetString()!];
}
