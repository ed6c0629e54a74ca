using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Wirety.Testing;

/// <param name="RedirectUris">The UI client's redirect URIs (exact match), e.g. the Wirety server's OIDC callback.</param>
/// <param name="Audience">The <c>aud</c> of every access token the provider issues.</param>
/// <param name="AutomationGroups">The <c>groups</c> claim of the client-credentials tokens (none when null or empty).</param>
/// <param name="AllowLoopbackCallbacks">Also accept <c>http://127.0.0.1:ANY/api/v1/auth/oidc/callback</c> (and localhost),
/// for a test that learns the server's port after the provider started.</param>
public sealed record IdentityProviderOptions(IReadOnlyList<string> RedirectUris, string Audience = "wirety",
    IReadOnlyList<string>? AutomationGroups = null, bool AllowLoopbackCallbacks = false);

/// <summary>
/// The test identity provider (tests/Wirety.Tests.IdP, a real OpenIddict OIDC provider) as a separate process on a free
/// loopback port: <c>dotnet Wirety.Tests.IdP.dll</c> from the build output of the same configuration as the calling test
/// assembly. Its users (alice, bob, mallory, carol; password "password") are listed in tests/Wirety.Tests.IdP/Users.cs.
/// Dispose kills it.
/// </summary>
public sealed class IdentityProviderProcess : IAsyncDisposable
{
    // Unloaded it answers in about 3 s; on this 2-core machine under a load of 30 it took 45 s (JIT of ASP.NET Core,
    // EF Core and OpenIddict), hence the margin.
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly List<string> _output = [];
    private readonly Lock _gate = new();

    private IdentityProviderProcess(Process process, int port, string clientSecret, string automationSecret, string audience)
    {
        _process = process;
        Issuer = $"http://127.0.0.1:{port}/";
        ClientSecret = clientSecret;
        AutomationClientSecret = automationSecret;
        Audience = audience;
    }

    public string Issuer { get; }
    public string ClientId { get; } = "wirety-ui";
    public string ClientSecret { get; }
    public string AutomationClientId { get; } = "wirety-automation";
    public string AutomationClientSecret { get; }
    public string Audience { get; }

    /// <summary>Everything the provider printed so far (stdout and stderr), for failure messages.</summary>
    public string Output
    {
        get { lock (_gate) return string.Join('\n', _output); }
    }

    public static async Task<IdentityProviderProcess> StartAsync(IdentityProviderOptions options, CancellationToken ct = default)
    {
        var dll = FindDll();
        var port = FreePort();
        var psi = new ProcessStartInfo(DotnetHost)
        {
            UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8, StandardErrorEncoding = Encoding.UTF8, WorkingDirectory = "/",
        };
        var clientSecret = "ui-" + Guid.NewGuid().ToString("N");
        var automationSecret = "automation-" + Guid.NewGuid().ToString("N");
        var args = new List<string>
        {
            dll, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--client-id", "wirety-ui", "--client-secret", clientSecret,
            "--automation-client-id", "wirety-automation", "--automation-client-secret", automationSecret,
            "--audience", options.Audience,
            // The provider ends itself if this test host dies without disposing it.
            "--exit-with-pid", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var uri in options.RedirectUris) args.AddRange(["--redirect-uri", uri]);
        if (options.AutomationGroups is { Count: > 0 } groups) args.AddRange(["--automation-groups", string.Join(',', groups)]);
        if (options.AllowLoopbackCallbacks) args.Add("--allow-loopback-callbacks");
        foreach (var a in args) psi.ArgumentList.Add(a);
        // The test host's own settings must not steer the provider.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("ASPNETCORE_", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(key);
        psi.Environment["DOTNET_ENVIRONMENT"] = "Production";

        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the identity provider");
        var idp = new IdentityProviderProcess(process, port, clientSecret, automationSecret, options.Audience);
        process.OutputDataReceived += (_, e) => idp.Add(e.Data);
        process.ErrorDataReceived += (_, e) => idp.Add(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        try
        {
            await idp.WaitUntilReadyAsync(ct);
            return idp;
        }
        catch
        {
            await idp.DisposeAsync();
            throw;
        }
    }

    /// <summary>A client-credentials access token (a signed JWT) of the automation client.</summary>
    public async Task<string> ClientCredentialsTokenAsync(CancellationToken ct = default)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Post, Issuer + "connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(AutomationClientId)}:{Uri.EscapeDataString(AutomationClientSecret)}")));
        using var response = await http.SendAsync(request, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"client_credentials token request answered {(int)response.StatusCode}: {body}\n{Output}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("access_token").GetString()
            ?? throw new InvalidOperationException($"no access_token in {body}");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException) { } // already gone
        _process.Dispose();
    }

    private async Task WaitUntilReadyAsync(CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        while (clock.Elapsed < StartTimeout)
        {
            ct.ThrowIfCancellationRequested();
            if (_process.HasExited)
                throw new InvalidOperationException($"the identity provider exited with code {_process.ExitCode} during start\n{Output}");
            try
            {
                using var response = await probe.GetAsync(Issuer + ".well-known/openid-configuration", ct);
                if (response.IsSuccessStatusCode) return;
            }
            catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !ct.IsCancellationRequested)) { }
            await Task.Delay(100, ct);
        }
        throw new TimeoutException($"the identity provider did not answer its discovery document within {StartTimeout.TotalSeconds:0} s\n{Output}");
    }

    private void Add(string? line)
    {
        if (line is null) return;
        lock (_gate) _output.Add(line);
    }

    /// <summary>
    /// tests/Wirety.Tests.IdP/bin/CONFIG/net10.0/Wirety.Tests.IdP.dll, CONFIG being that of the calling test assembly
    /// (…/tests/Wirety.Tests.X/bin/CONFIG/net10.0/); <c>WIRETY_IDP_DLL</c> names another one.
    /// </summary>
    private static string FindDll()
    {
        if (Environment.GetEnvironmentVariable("WIRETY_IDP_DLL") is { Length: > 0 } explicitDll)
            return File.Exists(explicitDll) ? explicitDll : throw new FileNotFoundException($"WIRETY_IDP_DLL={explicitDll} does not exist");
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = output.Name;
        var config = output.Parent?.Name ?? "Debug";
        for (var dir = output; dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "Wirety.sln"))) continue;
            var dll = Path.Combine(dir.FullName, "tests", "Wirety.Tests.IdP", "bin", config, framework, "Wirety.Tests.IdP.dll");
            return File.Exists(dll) ? dll
                : throw new FileNotFoundException($"{dll} is missing: build tests/Wirety.Tests.IdP -c {config} (the solution build does)");
        }
        throw new DirectoryNotFoundException($"no Wirety.sln above {AppContext.BaseDirectory}: set WIRETY_IDP_DLL");
    }

    private static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : ProcessRunner.FindExecutable("dotnet") ?? "dotnet";

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
