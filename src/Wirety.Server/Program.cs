using System.Text.Json;
using System.Text.Json.Serialization;
using JasperFx.CodeGeneration;
using Marten;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Wirety.Projections.Agents;
using Wirety.Projections.Tokens;
using Wirety.Server.Agents;
using Wirety.Server.AgentDeltas;
using Wirety.Server.ApiDescription;
using Wirety.Server.Changes;
using Wirety.Server.Auth;
using Wirety.Server.Auth.Sessions;
using Wirety.Server.Auth.Oidc;
using Wirety.Server.Configs;
using Wirety.Server.EventQueries;
using Wirety.Server.Health;
using Wirety.Server.Incidents;
using JasperFx;
using Wolverine.ErrorHandling;
using JasperFx.Events;
using Wirety.Server.Hosting;
using Wirety.Server.Forwarding;
using Wirety.Server.LiveChannel;
using Wirety.Server.Limits;
using Wirety.Server.Operations;
using Wirety.Server.Problems;
using Wirety.Server.Routes;
using Wirety.Server.Sockets;
using Wirety.Server.WebUi;
using Wolverine;
using Wolverine.Http;
using Wolverine.Marten;

// Operator commands (backup, restore, projections, heartbeats) run instead of the server.
if (OperationsCommandLine.Handles(args))
    return await OperationsCommandLine.RunAsync(args, new ConfigurationBuilder().AddEnvironmentVariables().Build(), Console.Out, Console.Error);

// `codegen write|preview|test` (JasperFx's command runner, after the app is built below): Wolverine's
// handler and endpoint code ahead of time into Internal/Generated, which the server loads statically;
// `openapi -d v1 -o <file>` (Wolverine.Http's command) writes the OpenAPI document the same way (make codegen).
var codegen = args is ["codegen" or "openapi", ..];
var builder = WebApplication.CreateBuilder(args);
// Generating code opens no connection, so it needs no database: a placeholder satisfies the settings.
if (codegen && string.IsNullOrWhiteSpace(builder.Configuration["WIRETY_DB"]))
    builder.Configuration["WIRETY_DB"] = "Host=codegen.invalid;Database=wirety";
var settings = WiretySettings.From(builder.Configuration);
AdminBootstrap.ValidateConfiguredToken(settings.AdminToken);

builder.UseWiretyKestrelLimits(); // Wirety__Limits__MaxConnections, MaxUpgradedConnections, header and keep-alive timeouts
builder.UseWiretyTls(); // HTTPS + HSTS when WIRETY_TLS_CERT/WIRETY_TLS_KEY are set (before the default URL below)
if (builder.Configuration["WIRETY_URLS"] is { Length: > 0 } urls) builder.WebHost.UseUrls(urls);
else if (builder.Configuration["urls"] is null && builder.Configuration["ASPNETCORE_URLS"] is null) builder.WebHost.UseUrls("http://127.0.0.1:8080");

builder.Logging.ClearProviders();
if (builder.Configuration["WIRETY_LOG_FORMAT"] == "text") builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
else builder.Logging.AddJsonConsole(o => o.IncludeScopes = false);
// Framework chatter at Warning; Wirety's own events at Information. Logging__LogLevel__* overrides.
foreach (var noisy in new[] { "Microsoft.AspNetCore", "Wolverine", "JasperFx", "Marten", "Weasel", typeof(ApiTokenAuthentication).FullName! })
    builder.Logging.AddFilter(noisy, LogLevel.Warning);

builder.Services.AddSingleton(settings);
builder.Services.AddSingleton(TrustedProxies.From(builder.Configuration));
builder.Services.AddSingleton<PrivateSourceWarning>(); // warns once when agents seem to sit behind an untrusted load balancer
builder.Services.AddSingleton(ServerAddresses.From(builder.Configuration));
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<ConfigCache>();
builder.Services.AddSingleton(sp => new CredentialCache<ApiToken>(sp.GetRequiredService<IDocumentStore>(), sp.GetRequiredService<TimeProvider>(),
    (session, hash, ct) => session.Query<ApiToken>().FirstOrDefaultAsync(t => t.TokenHash == hash, ct)));
builder.Services.AddSingleton(sp => new CredentialCache<AgentSession>(sp.GetRequiredService<IDocumentStore>(), sp.GetRequiredService<TimeProvider>(),
    (session, hash, ct) => session.Query<AgentSession>().FirstOrDefaultAsync(s => s.TokenHash == hash, ct)));
builder.Services.AddSingleton<SocketCaps>();
builder.Services.AddSingleton<AgentSockets>();
builder.Services.AddSingleton<AgentSigningKey>();
builder.Services.AddSingleton<AgentDeltaPublisher>();
builder.Services.AddSingleton<SightingFilter>();
builder.Services.AddSingleton<HeartbeatIngestor>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<HeartbeatIngestor>());
builder.Services.AddLiveChannel(builder.Configuration);
builder.Services.AddHeartbeatRetention(builder.Configuration);

builder.Services.AddMarten(sp =>
    {
        var opts = new StoreOptions();
        ServerStore.Configure(opts, settings.ConnectionString);
        opts.Listeners.Add(sp.GetRequiredService<CommitListener>());
        opts.Storage.ExtendedSchemaObjects.Add(NoticeSigner.Table(opts.DatabaseSchemaName)); // the change notices' key
        opts.Storage.ExtendedSchemaObjects.Add(AgentSigningKey.Table(opts.DatabaseSchemaName)); // the agent delta envelopes' key
        return opts;
    })
    .UseLightweightSessions()
    .ApplyAllDatabaseChangesOnStartup()
    .IntegrateWithWolverine();
// After Marten's schema work: the listener loads the change notices' key from the store before it listens.
builder.Services.AddChangeFeed();
// After Marten's schema work (hosted services start in registration order).
builder.Services.AddHostedService<AdminBootstrap>();
builder.Services.AddEventQueries();

builder.Host.UseWolverine(opts =>
{
    opts.ApplicationAssembly = typeof(Program).Assembly;
    // Balanced, not Solo: a Solo node takes node number 1 and, at start, clears the node table and
    // releases the ownership of every persisted envelope — with several instances on one database each
    // would claim (and could replay) the others' messages. Balanced gives each instance its own node
    // number and runs the durability agents on one elected node (advisory locks).
    opts.Durability.Mode = DurabilityMode.Balanced;
    // Pre-generated by `make codegen` (Internal/Generated), no Roslyn at run time. Static fails at start
    // when a handler or endpoint has no generated type; `make codegen-check` catches stale ones in CI.
    opts.CodeGeneration.TypeLoadMode = TypeLoadMode.Static;
    // Sightings are order-sensitive (A, B, A) and share one document per peer: one at a time per instance.
    opts.LocalQueueFor<PeerSighted>().Sequential();
    // Agent deltas chain each network change to the one before it: handled in commit order (AgentDeltas/AgentDeltaPublisher).
    opts.LocalQueueFor<NetworkChanged>().Sequential();
    // Detection on two instances can race on one peer's sightings or network stream: retry, re-reading state.
    opts.OnException<ConcurrencyException>().Or<EventStreamUnexpectedMaxEventIdException>()
        .RetryWithCooldown(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(150), TimeSpan.FromMilliseconds(400));
});
builder.Services.AddWolverineHttp();

builder.Services.ConfigureHttpJsonOptions(o =>
{
    o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
    o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
});
builder.Services.AddProblemDetails();
builder.Services.AddStrictJsonProblems(); // no .NET type name in a JSON 400 (Limits/StrictJson)
builder.Services.AddRequestLimits(builder.Configuration); // body size, rate limits, strict admin JSON (Limits/)
builder.Services.AddApiDescription();
builder.Services.AddExceptionHandler<ExceptionProblems>();
builder.Services.AddUiSessions(builder.Configuration); // Wirety__Sessions__Lifetime, IdleTimeout (Auth/Sessions)
// The default scheme picks the credential's own scheme (API token, UI session cookie, identity-provider JWT);
// agent endpoints authenticate with theirs through the agent policy.
builder.Services.AddAuthentication(WiretyIdentity.SchemeName)
    .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthentication>(ApiTokenAuthentication.SchemeName, null)
    .AddScheme<AuthenticationSchemeOptions, AgentSessionAuthentication>(AgentSessionAuthentication.SchemeName, null)
    .AddUiSessionSchemes();
builder.AddOidc(); // single sign-on when WIRETY_OIDC_ISSUER and WIRETY_OIDC_CLIENT_ID are set (Auth/Oidc)
builder.Services.AddSingleton<IAuthorizationHandler, RoleRequirementHandler>();
builder.Services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
builder.Services.AddAuthorization(o =>
{
    // Admin API by default (API token, UI session or JWT); the agent endpoints opt into the agent policy. Neither
    // credential works for the other. Every admin endpoint also checks the caller's role against its [RequiresRole].
    o.FallbackPolicy = new AuthorizationPolicyBuilder(WiretyIdentity.SchemeName).RequireAuthenticatedUser()
        .AddRequirements(new RoleRequirement()).Build();
    o.AddPolicy(AgentSessionAuthentication.Policy,
        new AuthorizationPolicyBuilder(AgentSessionAuthentication.SchemeName).RequireAuthenticatedUser().Build());
});

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = WebSocketEndpoint.KeepAlive });
app.UseSecurityHeaders(); // CSP, frame-ancestors, nosniff, Referrer-Policy on every response
app.UseWebUi(); // static files + SPA fallback, anonymous, never under /api
app.UseLiveChannelQueryToken(); // before authentication: /api/v1/ws may carry its token in the query
app.UseRequestLimits(); // 413 / 429 before authentication, so a flood costs no credential lookup
app.UseAuthentication();
app.UseCsrfProtection(); // cookie-authenticated writes carry X-Wirety-CSRF; cookie WebSockets come from our own origin
app.UseAuthorization();
app.UseNilIdsAsMissing();
app.UseStrictJson(); // one 400 naming every unknown member of an admin request body (Limits/StrictJson)
app.MapHealth();
app.MapWolverineEndpoints(o => o.RejectUnparseableQueryValues = true);
app.Map("/api/v1/agent/ws", (HttpContext http, AgentSockets sockets) => sockets.RunAsync(http))
    .RequireAuthorization(AgentSessionAuthentication.Policy);
app.MapLiveChannel();
app.MapApiDescription();
if (codegen) return await app.RunJasperFxCommands(args);
try
{
    await app.RunAsync();
}
catch (OperationCanceledException) when (app.Lifetime.ApplicationStopping.IsCancellationRequested)
{
    // Ctrl+C / SIGTERM while still starting (e.g. during schema migration) is a stop, not a crash.
}
return 0;

public partial class Program;
