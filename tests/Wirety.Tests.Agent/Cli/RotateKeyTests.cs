using System.Text.Json;
using Wirety.Agent.Cli;
using Wirety.Agent.Identity;
using Wirety.Agent.State;
using Wirety.Events.Agent;
using Wirety.Tests.Agent.Fakes;
using static Wirety.Tests.Agent.TestData;

namespace Wirety.Tests.Agent.Cli;

/// <summary><c>wirety-agent rotate-key</c> against a loopback server over real HTTP.</summary>
public sealed class RotateKeyTests : IAsyncDisposable
{
    private static readonly Func<string, string?> NoEnv = _ => null;
    private readonly FakeAgentServer _server = new();
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("wirety-agent-test-");
    private readonly KeyPair _old = KeyPair.Generate();

    private StateStore Enrolled()
    {
        var store = new StateStore(_dir.FullName);
        store.SaveIdentity(new AgentIdentity(_server.Url, Guid.NewGuid(), Guid.NewGuid(), _old, new Secret("wst_session"), "host",
            DateTimeOffset.UnixEpoch, "dynamic", "signing-key-kept-as-is"));
        store.SaveConfig(new SavedConfig(Config("7"), "\"7\"", DateTimeOffset.UnixEpoch));
        return store;
    }

    private Task<int> Rotate(StringWriter? log = null, TextWriter? stdout = null) =>
        RotateKey.RunAsync(new RotateKeyCommand(_dir.FullName), stdout ?? TextWriter.Null, Log(log), TimeProvider.System, default);

    [Fact]
    public async Task rotating_sends_a_new_public_key_with_the_session_and_keeps_the_new_pair_and_config()
    {
        var store = Enrolled();
        _server.RotateKey = _ => (200, JsonSerializer.Serialize(new RotateKeyResponse(Config("12")), AgentProtocolJson.Default.RotateKeyResponse));
        var stdout = new StringWriter();

        var exit = await Rotate(stdout: stdout);

        Assert.Equal(0, exit);
        var identity = store.LoadIdentity(); // also checks that the private key matches the public key
        var sent = Assert.Single(_server.RotateRequests);
        Assert.NotEqual(_old.PublicKey, identity.Keys.PublicKey);
        Assert.Equal(identity.Keys.PublicKey, sent!.PublicKey);
        Assert.Contains("Bearer wst_session", _server.Authorizations);
        Assert.Equal(AtomicFile.OwnerOnly, File.GetUnixFileMode(store.IdentityPath));
        Assert.Equal("12", store.LoadConfig()!.Config.Version);
        Assert.Equal("signing-key-kept-as-is", identity.SigningKey);
        Assert.Equal(identity.SessionToken, new Secret("wst_session"));
        Assert.False(File.Exists(Path.Combine(_dir.FullName, RotateKey.PendingFile)));
        Assert.Contains(identity.Keys.PublicKey, stdout.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(identity.Keys.PrivateKey.Reveal(), stdout.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_refusal_keeps_the_old_key()
    {
        var store = Enrolled();
        _server.RotateKey = _ => (409, """{"title":"Conflict","status":409,"detail":"this public key belongs to another peer"}""");
        var log = new StringWriter();

        var exit = await Rotate(log);

        Assert.Equal(1, exit);
        Assert.Equal(_old.PublicKey, store.LoadIdentity().Keys.PublicKey);
        Assert.Equal("7", store.LoadConfig()!.Config.Version);
        Assert.Contains("this public key belongs to another peer", log.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir.FullName, RotateKey.PendingFile)));
    }

    [Fact]
    public async Task a_revoked_session_exits_3_and_keeps_the_old_key()
    {
        var store = Enrolled();
        _server.RotateKey = _ => (401, "");

        Assert.Equal(3, await Rotate());
        Assert.Equal(_old.PublicKey, store.LoadIdentity().Keys.PublicKey);
    }

    [Fact]
    public async Task after_a_lost_answer_the_next_attempt_sends_the_same_key()
    {
        var store = Enrolled();
        _server.RotateKey = _ => (503, "");
        Assert.Equal(1, await Rotate());
        Assert.Equal(_old.PublicKey, store.LoadIdentity().Keys.PublicKey);
        var pending = Path.Combine(_dir.FullName, RotateKey.PendingFile);
        Assert.Equal(AtomicFile.OwnerOnly, File.GetUnixFileMode(pending));

        _server.RotateKey = _ => (200, JsonSerializer.Serialize(new RotateKeyResponse(Config("12")), AgentProtocolJson.Default.RotateKeyResponse));
        Assert.Equal(0, await Rotate());

        var sent = _server.RotateRequests.ToArray();
        Assert.Equal(2, sent.Length);
        Assert.Equal(sent[0]!.PublicKey, sent[1]!.PublicKey);
        Assert.Equal(sent[1]!.PublicKey, store.LoadIdentity().Keys.PublicKey);
    }

    [Fact]
    public void rotate_key_takes_state_dir_and_insecure_http_and_nothing_else()
    {
        var c = Assert.IsType<RotateKeyCommand>(CommandLine.Parse(["rotate-key", "--state-dir", "/tmp/w", "--insecure-http"], NoEnv));
        Assert.Equal("/tmp/w", c.StateDirectory);
        Assert.True(c.InsecureHttp);
        Assert.Equal("/var/lib/wirety", Assert.IsType<RotateKeyCommand>(CommandLine.Parse(["rotate-key"], NoEnv)).StateDirectory);

        var stderr = new StringWriter();
        var (command, exit) = CommandLine.Interpret(["rotate-key", "--token", "x"], TextWriter.Null, stderr, NoEnv);
        Assert.Null(command);
        Assert.Equal(CommandLine.UsageExitCode, exit);
        Assert.Contains("unknown option '--token'", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("wirety-agent rotate-key --help", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void enrolling_pins_a_well_formed_signing_key_only()
    {
        using var signer = new DeltaSigner();
        var command = new EnrollCommand(_server.Url, new Secret("wet_x"), false, _dir.FullName, null, false);
        var store = new StateStore(_dir.FullName);

        Enroll.Persist(store, command, new EnrollResponse(Guid.NewGuid(), Guid.NewGuid(), "wst_s", Config("1"), signer.PublicKey), KeyPair.Generate(), TimeProvider.System);
        Assert.Equal(signer.PublicKey, store.LoadIdentity().SigningKey);

        Enroll.Persist(store, command, new EnrollResponse(Guid.NewGuid(), Guid.NewGuid(), "wst_s", Config("1"), "not-a-key"), KeyPair.Generate(), TimeProvider.System);
        Assert.Null(store.LoadIdentity().SigningKey);

        Enroll.Persist(store, command, new EnrollResponse(Guid.NewGuid(), Guid.NewGuid(), "wst_s", Config("1")), KeyPair.Generate(), TimeProvider.System);
        Assert.Null(store.LoadIdentity().SigningKey);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _dir.Delete(recursive: true);
    }
}
