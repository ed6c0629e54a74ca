using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Wirety.Server.Forwarding;
using Wirety.Server.Peers;
using Wirety.Testing;
using Wirety.Tests.Operations.Harness;

namespace Wirety.Tests.Operations;

/// <summary>
/// A load balancer without WIRETY_TRUSTED_PROXIES makes every agent look like the balancer: the server says
/// so once, on the first agent request from a private address. (OperationsApp trusts no proxy, as a default
/// install does; no other test here sends agent traffic from a private address.)
/// </summary>
[Collection(OperationsCollection.Name)]
public sealed class PrivateSourceWarningTests(OperationsApp app) : IAsyncLifetime
{
    public Task InitializeAsync() => app.ResetAsync();
    public Task DisposeAsync() => Task.CompletedTask;

    private List<string> Warnings() => app.Logs.Where(l => l.Contains(nameof(PrivateSourceWarning), StringComparison.Ordinal)).ToList();

    [Fact]
    public async Task agent_traffic_from_a_private_address_without_trusted_proxies_logs_one_warning_per_process()
    {
        Assert.False(app.Services.GetRequiredService<PrivateSourceWarning>().Warned, "an earlier test already sent agent traffic from a private address");

        // Loopback (a developer's machine) and public addresses say nothing.
        foreach (var from in new[] { "127.0.0.1", "::1", "198.51.100.7", "2001:db8::7" })
            await EnrollFromAsync(from);
        Assert.Empty(Warnings());

        // The first private source warns, naming the address and the setting; later ones (any private range) do not repeat it.
        await EnrollFromAsync("10.20.30.40", forwardedFor: "198.51.100.8");
        foreach (var from in new[] { "192.168.1.10", "100.64.0.9", "fd12:3456::1", "172.16.5.5" })
            await EnrollFromAsync(from);
        var warning = Assert.Single(Warnings());
        Assert.StartsWith("Warning", warning);
        Assert.Contains("10.20.30.40 with an X-Forwarded-For header", warning);
        Assert.Contains("WIRETY_TRUSTED_PROXIES is not set", warning);
        Assert.Contains("detection will misfire", warning);
        Assert.Contains("Set WIRETY_TRUSTED_PROXIES to the balancer's addresses", warning);
    }

    [Theory]
    [InlineData("10.0.0.1", true)]
    [InlineData("172.16.0.1", true)]
    [InlineData("172.31.255.254", true)]
    [InlineData("172.32.0.1", false)]
    [InlineData("192.168.0.1", true)]
    [InlineData("100.64.0.1", true)]
    [InlineData("100.127.255.254", true)]
    [InlineData("100.128.0.1", false)]
    [InlineData("fd00::1", true)]
    [InlineData("fc00::1", true)]
    [InlineData("::ffff:10.1.2.3", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("::1", false)]
    [InlineData("198.18.0.1", false)]
    [InlineData("8.8.8.8", false)]
    [InlineData("2001:db8::1", false)]
    public void private_means_rfc1918_cgnat_or_ula(string address, bool isPrivate) =>
        Assert.Equal(isPrivate, PrivateSourceWarning.IsPrivate(IPAddress.Parse(address)));

    [Fact]
    public void with_trusted_proxies_configured_nothing_is_logged()
    {
        var logs = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var factory = LoggerFactory.Create(b => b.AddProvider(new CapturingLoggerProvider(logs)));
        var proxies = TrustedProxies.From(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [TrustedProxies.Setting] = "10.0.0.0/8" }).Build());
        var configured = new PrivateSourceWarning(proxies, factory.CreateLogger<PrivateSourceWarning>());
        configured.Observe(IPAddress.Parse("10.1.2.3"), sentForwardedFor: true);
        Assert.False(configured.Warned);
        Assert.Empty(logs);

        var unconfigured = new PrivateSourceWarning(TrustedProxies.None, factory.CreateLogger<PrivateSourceWarning>());
        unconfigured.Observe(IPAddress.Parse("10.1.2.3"), sentForwardedFor: false);
        unconfigured.Observe(IPAddress.Parse("10.1.2.4"), sentForwardedFor: false);
        Assert.True(unconfigured.Warned);
        Assert.Single(logs);
    }

    /// <summary>An enrollment attempt (with an unknown token: refused, but agent traffic all the same) from an address.</summary>
    private async Task EnrollFromAsync(string from, string? forwardedFor = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/agent/enroll")
        {
            Content = JsonContent.Create(new
            {
                token = "wirety_enroll_unknown-" + Guid.NewGuid().ToString("N"), publicKey = WireGuardKeyPair.Generate().PublicKey,
                hostname = "host", agentVersion = "test",
            }),
        };
        request.Headers.Add(TestRemoteAddress.Header, from);
        if (forwardedFor is not null) request.Headers.Add(TrustedProxies.Header, forwardedFor);
        var response = await app.Client(null).SendAsync(request);
        Assert.True((int)response.StatusCode is >= 400 and < 500, $"{from}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}
