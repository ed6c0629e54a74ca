using Wirety.Agent.Cli;
using Wirety.Agent.Identity;
using Wirety.Agent.State;
using Wirety.Tests.Agent.Fakes;

namespace Wirety.Tests.Agent.Cli;

/// <summary><c>status</c> says whether this identity uses deltas (a signing key pinned at enrollment).</summary>
public sealed class StatusDeltasTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("wirety-agent-test-");

    private async Task<string> StatusWith(string? signingKey)
    {
        new StateStore(_dir.FullName).SaveIdentity(new AgentIdentity(new Uri("https://wirety.example.com"), Guid.NewGuid(), Guid.NewGuid(),
            KeyPair.Generate(), new Secret("wst_s"), "host", DateTimeOffset.UnixEpoch, "dynamic", signingKey));
        var output = new StringWriter();
        await Status.RunAsync(new StatusCommand(_dir.FullName, "wirety0"), new InMemoryWireGuard(), output, TimeProvider.System, default);
        return output.ToString();
    }

    [Fact]
    public async Task status_shows_deltas_on_only_with_a_pinned_signing_key()
    {
        using var signer = new DeltaSigner();

        Assert.Contains("deltas:", await StatusWith(signer.PublicKey), StringComparison.Ordinal);
        Assert.Contains("on (server signing key pinned)", await StatusWith(signer.PublicKey), StringComparison.Ordinal);
        Assert.Contains("off (no signing key pinned", await StatusWith(null), StringComparison.Ordinal);
        Assert.Contains("off (no signing key pinned", await StatusWith("garbage"), StringComparison.Ordinal);
    }

    public void Dispose() => _dir.Delete(recursive: true);
}
