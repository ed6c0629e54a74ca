using Microsoft.AspNetCore.Hosting;
using Npgsql;
using Wirety.Tests.Api.Agents;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Limits;

/// <summary>
/// A second server with small limits (the shared one sets them out of reach). Rate windows last an hour, so
/// a budget spent in a test stays spent for the whole run: each test uses its own source addresses and
/// credentials. Nothing here depends on how long anything takes.
/// </summary>
public sealed class LimitsApp : WiretyApp
{
    public const int Enrollments = 3, Heartbeats = 3, AdminRequests = 300, AgentBodyBytes = 4096, HeartbeatBodyBytes = 8192, AdminBodyBytes = 16384;
    public static readonly TimeSpan EndpointChangeInterval = TimeSpan.FromMinutes(1);

    protected override void Configure(IWebHostBuilder b)
    {
        b.UseSetting("Wirety:Limits:RateWindow", "01:00:00");
        b.UseSetting("Wirety:Limits:EnrollmentsPerWindow", Enrollments.ToString());
        b.UseSetting("Wirety:Limits:HeartbeatsPerWindow", Heartbeats.ToString());
        b.UseSetting("Wirety:Limits:AdminRequestsPerWindow", AdminRequests.ToString());
        b.UseSetting("Wirety:Limits:AgentBodyBytes", AgentBodyBytes.ToString());
        b.UseSetting("Wirety:Limits:HeartbeatBodyBytes", HeartbeatBodyBytes.ToString());
        b.UseSetting("Wirety:Limits:AdminBodyBytes", AdminBodyBytes.ToString());
        b.UseSetting("Wirety:Limits:EndpointChangeInterval", EndpointChangeInterval.ToString());
    }
}

[CollectionDefinition(Name)]
public sealed class LimitsCollection : ICollectionFixture<LimitsApp>
{
    public const string Name = "limits";
}

[Collection(LimitsCollection.Name)]
public abstract class LimitsTest(LimitsApp app) : AgentTest(app)
{
    /// <summary>The refused enrollments recorded for a source address: how many, in how many streams.</summary>
    protected async Task<(long Events, long Streams)> RejectionsFromAsync(string source)
    {
        await using var conn = new NpgsqlConnection(App.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            select count(*), count(distinct stream_id) from wirety.mt_events
            where data->>'rejectionId' is not null and data->>'sourceAddress' = @source
            """, conn);
        cmd.Parameters.AddWithValue("source", source);
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>Enrolls from its own source address: enrollment budgets are per address and last the whole run.</summary>
    protected async Task<Enrolled> EnrollFromAsync(string source, string token)
    {
        var keys = Wirety.Server.Peers.WireGuardKeyPair.Generate();
        var response = await App.Client(null).SendAsync(From(source, HttpMethod.Post, "/api/v1/agent/enroll",
            System.Net.Http.Json.JsonContent.Create(new { token, publicKey = keys.PublicKey, hostname = "host", agentVersion = "test" })));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var body = await BodyAsync(response);
        var session = body.GetProperty("sessionToken").GetString()!;
        return new Enrolled(body.GetProperty("peerId").GetGuid(), body.GetProperty("networkId").GetGuid(), session,
            body.GetProperty("config"), keys.PublicKey, App.Client(session));
    }

    protected static HttpRequestMessage From(string source, HttpMethod method, string path, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Add(Wirety.Testing.TestRemoteAddress.Header, source);
        return request;
    }

    /// <summary>A JSON body whose length is not announced (sent chunked), so only reading it can find it too large.</summary>
    protected sealed class UnsizedContent : HttpContent
    {
        private readonly byte[] _bytes;

        public UnsizedContent(string json)
        {
            _bytes = System.Text.Encoding.UTF8.GetBytes(json);
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => stream.WriteAsync(_bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    protected static StringContent SizedJson(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    /// <summary>A 429 problem with a Retry-After of at least one second.</summary>
    protected static async Task AssertTooManyAsync(HttpResponseMessage response)
    {
        await AssertProblemAsync(response, 429);
        var retryAfter = response.Headers.RetryAfter?.Delta;
        Assert.True(retryAfter is { } delta && delta >= TimeSpan.FromSeconds(1), $"Retry-After: {response.Headers.RetryAfter}");
    }
}
