using System.Text.Json;
using Wirety.Agent.Identity;
using Wirety.Agent.State;
using Wirety.Events.Agent;

namespace Wirety.Tests.Agent.State;

/// <summary>
/// The state files are written through a generated JSON context that replaced reflection over options
/// with the same settings: files written by an older agent and by this one must be the same bytes.
/// </summary>
public sealed class StateFileJsonTests : IDisposable
{
    private static readonly JsonSerializerOptions WebIndented = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("wirety-agent-test-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void state_files_are_the_bytes_web_defaults_indented_wrote()
    {
        var store = new StateStore(_dir.FullName);
        var keys = KeyPair.Generate();
        var identity = new AgentIdentity(new Uri("https://wirety.example.com/"), Guid.NewGuid(), Guid.NewGuid(), keys,
            new Secret("session-ü<&>"), "laptop", DateTimeOffset.UnixEpoch);
        var config = new SavedConfig(new AgentConfig("3", "dynamic", new AgentInterface("198.18.0.2/32", null, 1420, []),
            [new AgentPeer(keys.PublicKey, "192.0.2.1:51820", ["198.18.0.0/24"], 25)], null), "\"3\"", DateTimeOffset.UnixEpoch);
        var state = new AgentStateFile("3", DateTimeOffset.UnixEpoch, null, null, "server unreachable: 'x'");

        store.SaveIdentity(identity);
        store.SaveConfig(config);
        store.SaveState(state);

        var identityFile = new StateStore.IdentityFile(identity.Server.ToString(), identity.PeerId, identity.NetworkId, keys.PublicKey,
            keys.PrivateKey.Reveal(), "session-ü<&>", "laptop", DateTimeOffset.UnixEpoch);
        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(identityFile, WebIndented), File.ReadAllBytes(store.IdentityPath));
        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(config, WebIndented), File.ReadAllBytes(store.ConfigPath));
        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(state, WebIndented), File.ReadAllBytes(store.StatePath));
        Assert.Equal(JsonSerializer.Serialize(config, WebIndented), JsonSerializer.Serialize(store.LoadConfig(), WebIndented));
    }
}
