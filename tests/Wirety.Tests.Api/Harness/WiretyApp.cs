using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Marten;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Wirety.Projections.Agents;
using Wirety.Projections.Tokens;
using Wirety.Server.Auth;
using Wirety.Server.Configs;
using Wirety.Testing;

namespace Wirety.Tests.Api.Harness;

/// <summary>
/// The real server (real Program, real HTTP pipeline) on its own database in the run's throwaway
/// PostgreSQL cluster. One per test collection; <see cref="ResetAsync"/> clears data before each test.
/// Every log line the server writes is kept in <see cref="Logs"/> so tests can scan it for secrets.
/// </summary>
public class WiretyApp : IAsyncLifetime
{
    public const string AdminToken = "wirety_test-admin-token-0123456789abcdefghijklmnop";
    /// <summary>The load balancers this server believes X-Forwarded-For from (addresses no other test uses).</summary>
    public const string TrustedProxies = "10.255.0.1, fd00:ffff::/64";
    /// <summary>The server's configured addresses (<c>Wirety:ServerAddresses</c>), which no route may cover.</summary>
    public const string ServerAddresses = "203.0.113.10, 2001:db8::10";
    private WebApplicationFactory<Program>? _factory;
    public ConcurrentQueue<string> Logs { get; } = new();
    public DatabaseCommandCounter DatabaseCommands { get; } = new();
    public TestClock Clock { get; } = new();
    public string ConnectionString { get; private set; } = "";
    public string DataDir { get; } = Directory.CreateTempSubdirectory("wirety-test-data-").FullName;
    /// <summary>A stand-in for frontend/dist (see WebUiTests).</summary>
    public string WebRoot { get; } = WebUi.WebUiTests.CreateWebRoot();

    public HttpClient Admin { get; private set; } = null!;
    public IServiceProvider Services => _factory!.Services;
    public Microsoft.AspNetCore.TestHost.TestServer Server => _factory!.Server;
    public IDocumentStore Store => Services.GetRequiredService<IDocumentStore>();

    public async Task InitializeAsync()
    {
        await BeforeStartAsync();
        var cluster = await PostgresCluster.SharedAsync();
        ConnectionString = await cluster.CreateDatabaseAsync("wirety_api_" + Guid.NewGuid().ToString("N")[..8]);
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("WIRETY_DB", ConnectionString);
            b.UseSetting("WIRETY_DATA_DIR", DataDir);
            b.UseSetting("WIRETY_ADMIN_TOKEN", AdminToken);
            b.UseSetting("WIRETY_WEB_ROOT", WebRoot);
            b.UseSetting("WIRETY_TRUSTED_PROXIES", TrustedProxies);
            b.UseSetting("Wirety:ServerAddresses", ServerAddresses);
            // Limits stop floods, not a suite that enrolls hundreds of agents from one address within a minute or
            // flips endpoints on purpose: far out of reach here. LimitsApp (tests/Limits) sets small ones.
            b.UseSetting("Wirety:Limits:EnrollmentsPerWindow", "1000000");
            b.UseSetting("Wirety:Limits:HeartbeatsPerWindow", "1000000");
            b.UseSetting("Wirety:Limits:AdminRequestsPerWindow", "1000000");
            b.UseSetting("Wirety:Limits:EndpointChangeInterval", "00:00:00");
            Configure(b);
            b.ConfigureServices(s =>
            {
                s.AddSingleton<ILoggerProvider>(new CapturingLoggerProvider(Logs));
                s.AddSingleton<TimeProvider>(Clock);
                s.AddSingleton<Microsoft.AspNetCore.Hosting.IStartupFilter, TestRemoteAddress>();
                s.AddSingleton<Microsoft.AspNetCore.Hosting.IStartupFilter, TestLocalAddress>();
                s.ConfigureMarten(opts => opts.Logger(DatabaseCommands));
            });
        });
        Admin = Client(AdminToken);
        await ReadyAsync();
    }

    /// <summary>A fixture that needs something running before the server starts (an identity provider) overrides this.</summary>
    protected virtual Task BeforeStartAsync() => Task.CompletedTask;

    /// <summary>A client that follows no redirects and keeps cookies, as a browser's view of the server.</summary>
    public HttpClient BrowserClient() =>
        _factory!.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    /// <summary>A fixture with other settings (applied after the defaults above) overrides this.</summary>
    protected virtual void Configure(IWebHostBuilder builder) { }

    private async Task ReadyAsync()
    {
        var response = await Admin.GetAsync("/readyz");
        response.EnsureSuccessStatusCode();
    }

    public HttpClient Client(string? bearer)
    {
        var client = _factory!.CreateClient();
        if (bearer is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return client;
    }

    /// <summary>Opens an agent WebSocket through the real pipeline (TestServer), authenticated by a session token.</summary>
    /// <param name="query">e.g. <c>?deltas=1</c> for signed delta envelopes instead of config-changed notices.</param>
    public Task<System.Net.WebSockets.WebSocket> ConnectAgentSocketAsync(string sessionToken, string query = "")
    {
        var client = _factory!.Server.CreateWebSocketClient();
        client.ConfigureRequest = r => r.Headers.Authorization = "Bearer " + sessionToken;
        return client.ConnectAsync(new Uri(_factory.Server.BaseAddress, "api/v1/agent/ws" + query), CancellationToken.None);
    }

    /// <summary>Wipes every event and document, then re-creates the bootstrap admin token the way a first start does.</summary>
    public async Task ResetAsync()
    {
        Clock.Reset();
        // TRUNCATE takes each table's exclusive lock in turn while the app's background readers (Wolverine's
        // durability agent, presence, detection) may hold one table and want the next: PostgreSQL then aborts
        // one side as a deadlock victim. Only the test reset truncates, so retrying it is the whole answer.
        for (var attempt = 1; ; attempt++)
        {
            try { await Store.Advanced.ResetAllData(); break; }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DeadlockDetected && attempt < 5) { }
        }
        Services.GetRequiredService<Wirety.Server.Incidents.SightingFilter>().Clear();
        Services.GetRequiredService<CredentialCache<ApiToken>>().Clear();
        Services.GetRequiredService<CredentialCache<AgentSession>>().Clear();
        Services.GetRequiredService<ConfigCache>().Clear();
        Services.GetRequiredService<Wirety.Server.EventQueries.SafeSequence>().Reset();
        Services.GetRequiredService<Wirety.Server.LiveChannel.PeerPresence>().Clear();
        foreach (var hosted in Services.GetServices<IHostedService>().OfType<AdminBootstrap>())
            await hosted.StartAsync(CancellationToken.None);
    }

    /// <summary>Total number of events in the store, read with plain SQL.</summary>
    public async Task<long> EventCountAsync()
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("select count(*) from wirety.mt_events", conn);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    public async Task<IReadOnlyList<string>> LatestEventTypesAsync(int count)
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"select type || ' on ' || stream_id from wirety.mt_events order by seq_id desc limit {Math.Max(count, 0)}", conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        var types = new List<string>();
        while (await reader.ReadAsync()) types.Add(reader.GetString(0));
        return types;
    }

    /// <summary>Every stored row of every Wirety table (events and documents) as text.</summary>
    public async Task<IReadOnlyList<string>> AllStoredTextAsync()
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        var tables = new List<string>();
        await using (var cmd = new NpgsqlCommand(
                         "select table_name from information_schema.tables where table_schema = 'wirety' and table_type = 'BASE TABLE'", conn))
        await using (var reader = await cmd.ExecuteReaderAsync())
            while (await reader.ReadAsync()) tables.Add(reader.GetString(0));
        var rows = new List<string>();
        foreach (var table in tables)
        {
            await using var cmd = new NpgsqlCommand($"select t::text from wirety.\"{table}\" t", conn);
            await using var reader = await cmd.ExecuteReaderAsync();
            while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        }
        return rows;
    }

    public virtual async Task DisposeAsync()
    {
        if (_factory is not null) await _factory.DisposeAsync();
        try { Directory.Delete(DataDir, true); } catch (IOException) { }
        try { Directory.Delete(WebRoot, true); } catch (IOException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class ApiCollection : ICollectionFixture<WiretyApp>
{
    public const string Name = "api";
}

/// <summary>Base for API tests: fresh data before each test, JSON helpers.</summary>
[Collection(ApiCollection.Name)]
public abstract class ApiTest(WiretyApp app) : IAsyncLifetime
{
    protected static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    protected WiretyApp App { get; } = app;
    protected HttpClient Admin => App.Admin;

    public Task InitializeAsync()
    {
        App.Logs.Clear();
        return App.ResetAsync();
    }

    /// <summary>A 500 is a bug: no test may leave an unhandled request exception behind.</summary>
    public Task DisposeAsync()
    {
        var unhandled = App.Logs.Where(line => line.Contains("unhandled exception", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(unhandled.Count == 0, "Unhandled request exceptions (500s):\n" + string.Join("\n", unhandled));
        return Task.CompletedTask;
    }

    protected static async Task<JsonElement> BodyAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    protected async Task<JsonElement> CreateNetworkAsync(string name = "corp", string cidr = "10.10.0.0/24", object? extra = null)
    {
        var body = new Dictionary<string, object?> { ["name"] = name, ["cidr"] = cidr };
        if (extra is not null)
            foreach (var p in JsonSerializer.SerializeToElement(extra, Json).EnumerateObject()) body[p.Name] = p.Value;
        var response = await Admin.PostAsJsonAsync("/api/v1/networks", body);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return await BodyAsync(response);
    }

    protected async Task<JsonElement> CreatePeerAsync(Guid networkId, object peer)
    {
        var response = await Admin.PostAsJsonAsync($"/api/v1/networks/{networkId}/peers", peer);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await BodyAsync(response);
    }

    /// <summary>Asserts an RFC 7807 answer with the status, and returns its body.</summary>
    protected static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, int status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal(status, body.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(body.TryGetProperty("detail", out var d) ? d.GetString() : body.GetProperty("title").GetString()));
        return body;
    }

    /// <summary>Runs a request that must be refused with a problem and must append nothing.</summary>
    protected async Task<JsonElement> AssertRefusedAsync(Func<Task<HttpResponseMessage>> request, int status)
    {
        var before = await App.EventCountAsync();
        var body = await AssertProblemAsync(await request(), status);
        var after = await App.EventCountAsync();
        Assert.True(before == after, $"a refused request must append nothing, but {after - before} event(s) appeared: "
            + string.Join(", ", await App.LatestEventTypesAsync((int)(after - before))));
        return body;
    }
}
