using System.Net.Http.Json;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.Security;

public sealed class SecretsTests(WiretyApp app) : ApiTest(app)
{
    [Fact]
    public async Task no_handed_out_secret_appears_in_any_stored_event_document_or_log_line()
    {
        var net = (await CreateNetworkAsync()).GetProperty("id").GetGuid();
        await CreatePeerAsync(net, new { name = "hub", kind = "jump", endpoint = "203.0.113.1:51820" });
        var dynamicPeer = await CreatePeerAsync(net, new { name = "laptop", kind = "dynamic" });
        var staticPeer = await CreatePeerAsync(net, new { name = "phone", kind = "static" });
        var apiToken = await BodyAsync(await Admin.PostAsJsonAsync("/api/v1/tokens", new { name = "ci", role = "admin" }));
        var config = staticPeer.GetProperty("config").GetString()!;
        var secrets = new[]
        {
            dynamicPeer.GetProperty("enrollmentToken").GetString()!,
            apiToken.GetProperty("token").GetString()!,
            WiretyApp.AdminToken,
            config.Split('\n').Single(l => l.StartsWith("PrivateKey = ")).Substring("PrivateKey = ".Length),
        };
        // Exercise the read paths too, so their logging is covered.
        await App.Client(secrets[1]).GetAsync($"/api/v1/networks/{net}/peers");
        await Admin.GetAsync($"/api/v1/networks/{net}/peers/{staticPeer.GetProperty("id")}/config");

        var stored = await App.AllStoredTextAsync();
        Assert.NotEmpty(stored);
        var logs = App.Logs.ToArray();
        Assert.NotEmpty(logs);
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(stored, row => row.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(logs, line => line.Contains(secret, StringComparison.Ordinal));
        }
        var events = await (await Admin.GetAsync($"/api/v1/networks/{net}/events")).Content.ReadAsStringAsync();
        Assert.All(secrets, s => Assert.DoesNotContain(s, events));
    }
}
