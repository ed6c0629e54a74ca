using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Marten;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Wirety.Projections.Agents;
using Wirety.Projections.Tokens;
using Wirety.Server.Auth;
using Wirety.Server.Configs;
using Wirety.Server.Operations;
using Wirety.Testing;

namespace Wirety.Tests.Operations.Harness;

/// <summary>
/// The real server (real Program over WebApplicationFactory) on its own database in the run's throwaway
/// PostgreSQL cluster, with a movable clock; plus the operator commands run in-process through the same
/// entry point the executable uses (<see cref="OperationsCommandLine.RunAsync"/>).
/// </summary>
public sealed class OperationsApp : IAsyncLifetime
{
    public const string AdminToken = "wirety_test-admin-token-0123456789abcdefghijklmnop";
    private WebApplicationFactory<Program>? _factory;
    private PostgresCluster? _cluster;
    public TestClock Clock { get; } = new();
    public string ConnectionString { get; private set; } = "";
    public string WorkDir { get; } = Directory.CreateTempSubdirectory("wirety-ops-test-").FullName;
    public HttpClient Admin { get; private set; } = null!;
    public IServiceProvider Services => _factory!.Services;
    public IDocumentStore Store => Services.GetRequiredService<IDocumentStore>();
    /// <summary>Every log line (Warning and above) the server writes, as "Level Category: message".</summary>
    public ConcurrentQueue<string> Logs { get; } = new();

    public async Task InitializeAsync()
    {
        _cluster = await PostgresCluster.SharedAsync();
        ConnectionString = await _cluster.CreateDatabaseAsync("wirety_ops_" + Guid.NewGuid().ToString("N")[..8]);
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("WIRETY_DB", ConnectionString);
            b.UseSetting("WIRETY_DATA_DIR", WorkDir);
            b.UseSetting("WIRETY_ADMIN_TOKEN", AdminToken);
            b.UseSetting("WIRETY_LOG_FORMAT", "text");
            // The scenarios enroll many agents from one address within a minute: rate limits are for floods, not this.
            b.UseSetting("Wirety:Limits:EnrollmentsPerWindow", "1000000");
            b.UseSetting("Wirety:Limits:HeartbeatsPerWindow", "1000000");
            b.UseSetting("Wirety:Limits:AdminRequestsPerWindow", "1000000");
            b.ConfigureServices(s =>
            {
                s.AddSingleton<TimeProvider>(Clock);
                s.AddSingleton<IStartupFilter, TestRemoteAddress>();
                s.AddSingleton<ILoggerProvider>(new CapturingLoggerProvider(Logs));
            });
            b.ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        });
        Admin = Client(AdminToken);
        (await Admin.GetAsync("/readyz")).EnsureSuccessStatusCode();
    }

    public HttpClient Client(string? bearer)
    {
        var client = _factory!.CreateClient();
        if (bearer is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return client;
    }

    /// <summary>A new empty database (no Wirety schema) on the same cluster.</summary>
    public Task<string> CreateEmptyDatabaseAsync() => _cluster!.CreateDatabaseAsync("wirety_ops_" + Guid.NewGuid().ToString("N")[..8]);

    /// <summary>Wipes every event and document, drops the server's caches, and re-creates the bootstrap token as a first start does.</summary>
    public async Task ResetAsync()
    {
        Clock.Reset();
        await WipeAsync();
        foreach (var hosted in Services.GetServices<IHostedService>().OfType<AdminBootstrap>())
            await hosted.StartAsync(CancellationToken.None);
    }

    /// <summary>Every event, stream and document gone (the schema stays), caches dropped: what "wipe" means in the round trip.</summary>
    public async Task WipeAsync()
    {
        await Store.Advanced.ResetAllData();
        ClearCaches();
    }

    /// <summary>What a restart would forget: cached configs, credentials, sightings.</summary>
    public void ClearCaches()
    {
        Services.GetRequiredService<Wirety.Server.Incidents.SightingFilter>().Clear();
        Services.GetRequiredService<CredentialCache<ApiToken>>().Clear();
        Services.GetRequiredService<CredentialCache<AgentSession>>().Clear();
        Services.GetRequiredService<ConfigCache>().Clear();
        Services.GetRequiredService<Wirety.Server.Agents.HeartbeatIngestor>().Baselines.Forget();
    }

    public sealed record CommandResult(int ExitCode, string Out, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout: {Out}\nstderr: {Error}";
    }

    /// <summary>Runs an operator command as `wirety-server ARGS` would, against <paramref name="connectionString"/> (default: the server's database).</summary>
    public Task<CommandResult> RunAsync(params string[] args) => RunOnAsync(ConnectionString, args);

    public async Task<CommandResult> RunOnAsync(string connectionString, params string[] args)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["WIRETY_DB"] = connectionString,
        }).Build();
        return await RunWithConfigAsync(config, args);
    }

    public async Task<CommandResult> RunWithConfigAsync(IConfiguration config, params string[] args)
    {
        Assert.True(OperationsCommandLine.Handles(args), $"not an operator command: {string.Join(' ', args)}");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await OperationsCommandLine.RunAsync(args, config, stdout, stderr, Clock);
        return new CommandResult(code, stdout.ToString(), stderr.ToString());
    }

    public string TempFile(string name) => Path.Combine(WorkDir, Guid.NewGuid().ToString("N")[..8] + "-" + name);

    public static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    public static async Task ExecAsync(string connectionString, string sql)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync()
    {
        if (_factory is not null) await _factory.DisposeAsync();
        try { Directory.Delete(WorkDir, true); } catch (IOException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class OperationsCollection : ICollectionFixture<OperationsApp>
{
    public const string Name = "operations";
}
