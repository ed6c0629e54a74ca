using System.Net;
using System.Net.Sockets;
using Wirety.Agent.Identity;
using Wirety.Agent.Reconcile;
using Wirety.Agent.Running;
using Wirety.Agent.State;
using Wirety.Events.Addressing;
using Wirety.Events.Agent;
using Wirety.Tests.Agent.Fakes;
using static Wirety.Tests.Agent.TestData;

namespace Wirety.Tests.Agent.Transport;

/// <summary>
/// The whole <c>run</c> against a loopback server that answers every request with 401 (the peer was
/// deleted): the agent brings the saved full tunnel up (fail-static), learns that its session is gone,
/// gives the host its routing back and exits 3.
/// </summary>
public sealed class RevokedSessionTests : IDisposable
{
    private readonly HttpListener _server = new();
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("wirety-agent-test-");
    private readonly Uri _url;

    public RevokedSessionTests()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        _url = new Uri($"http://127.0.0.1:{port}/");
        _server.Prefixes.Add(_url.ToString());
        _server.Start();
        _ = AnswerUnauthorizedAsync();
    }

    private async Task AnswerUnauthorizedAsync()
    {
        while (_server.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _server.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            context.Response.StatusCode = 401;
            context.Response.Close();
        }
    }

    [Fact]
    public async Task a_revoked_full_tunnel_agent_exits_3_and_leaves_no_full_tunnel_behind()
    {
        var store = new StateStore(_dir.FullName);
        var config = Config("7", Jump("0.0.0.0/0", "::/0"), Laptop());
        store.SaveConfig(new SavedConfig(config, "\"e7\"", DateTimeOffset.UnixEpoch));
        var identity = new AgentIdentity(_url, Guid.NewGuid(), Guid.NewGuid(), Self, new Secret("wst_revoked"), null, DateTimeOffset.UnixEpoch, "dynamic");
        var options = new RunOptions(_dir.FullName, "wirety0", false, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60), [], false,
            AllowFullTunnel: true);
        var wg = new InMemoryWireGuard();
        var sink = new StringWriter();

        var exit = await new AgentRunner(options, identity, store, wg, new RecordingForwarding(), new RecordingFilter(), Log(sink), TimeProvider.System)
            .RunAsync(default);

        Assert.Equal(RunDecisions.RevokedExitCode, exit);
        // It was up (from the saved config) before the server said no...
        Assert.Contains("full-tunnel wirety0 InterNetwork True", wg.Calls);
        // ...and is gone after.
        var after = await wg.ReadAsync("wirety0", default);
        Assert.NotNull(after);
        Assert.False(after.FullTunnelIPv4);
        Assert.False(after.FullTunnelIPv6);
        Assert.Empty(after.Routes);
        Assert.DoesNotContain(wg.Calls, c => c.StartsWith("add-server-route", StringComparison.Ordinal)); // a loopback server needs none
        Assert.Contains("full tunnel, routes into the tunnel and masquerade rules removed", sink.ToString(), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        // Close alone: Stop then Close makes the managed listener look the port up again on Close and bind it anew,
        // which fails ("Address already in use") when another test's listener took the freed port in between.
        _server.Close();
        _dir.Delete(recursive: true);
    }
}
