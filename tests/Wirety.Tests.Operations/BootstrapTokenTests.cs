using System.Net;
using System.Net.Http.Headers;
using Wirety.Testing;
using Wirety.Tests.Operations.Harness;

namespace Wirety.Tests.Operations;

/// <summary>
/// The generated bootstrap admin token of a first start, with standard output not a terminal (as under
/// systemd or in a container, where output is kept in a log): only in the 0600 file, never in the output.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class BootstrapTokenTests : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("wirety-bootstrap-test-").FullName;
    private ServerProcess? _server;

    [Fact]
    public async Task a_generated_bootstrap_token_goes_only_to_the_private_file_when_output_is_not_a_terminal()
    {
        var db = await (await PostgresCluster.SharedAsync()).CreateDatabaseAsync("wirety_boot_" + Guid.NewGuid().ToString("N")[..8]);
        var port = ServerProcess.FreePort();
        _server = ServerProcess.Start(_dir, new Dictionary<string, string>
        {
            ["WIRETY_DB"] = db,
            ["WIRETY_URLS"] = $"http://127.0.0.1:{port}",
        });
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        Assert.True(await _server.ReadyAsync(http), "the server did not start:\n" + _server.Log());

        var file = Path.Combine(_dir, "data", "admin-token");
        // Readiness comes after the hosted services started, the bootstrap among them.
        Assert.True(File.Exists(file), "no admin-token file:\n" + _server.Log());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        var token = (await File.ReadAllTextAsync(file)).Trim();

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/networks");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(request)).StatusCode);

        var output = _server.Log();
        Assert.DoesNotContain(token, output);
        Assert.Contains("not printed", output);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
