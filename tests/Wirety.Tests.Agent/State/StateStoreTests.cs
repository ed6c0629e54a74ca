using System.Runtime.InteropServices;
using System.Text;
using Wirety.Agent.Cli;
using Wirety.Agent.Identity;
using Wirety.Agent.State;
using Wirety.Events.Agent;
using static Wirety.Tests.Agent.TestData;

namespace Wirety.Tests.Agent.State;

public sealed class StateStoreTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("wirety-agent-test-");
    private StateStore Store => new(Path.Combine(_dir.FullName, "state"));

    public void Dispose() => _dir.Delete(recursive: true);

    private static AgentIdentity Identity(KeyPair? keys = null) =>
        new(new Uri("https://wirety.example.com/"), Guid.NewGuid(), Guid.NewGuid(), keys ?? KeyPair.Generate(),
            new Secret("session-" + Guid.NewGuid()), "laptop", DateTimeOffset.UnixEpoch);

    [Fact]
    public void the_identity_file_is_written_with_mode_0600_in_a_0700_directory()
    {
        var store = Store;

        store.SaveIdentity(Identity());

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.IdentityPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(store.Directory));
    }

    [Fact]
    public void the_identity_round_trips_and_its_keys_are_checked_against_each_other()
    {
        var store = Store;
        var identity = Identity();

        store.SaveIdentity(identity);
        var loaded = store.LoadIdentity();

        Assert.Equal(identity.PeerId, loaded.PeerId);
        Assert.Equal(identity.NetworkId, loaded.NetworkId);
        Assert.Equal(identity.Server, loaded.Server);
        Assert.Equal(identity.Keys.PublicKey, loaded.Keys.PublicKey);
        Assert.Equal(identity.Keys.PrivateKey.Reveal(), loaded.Keys.PrivateKey.Reveal());
        Assert.Equal(identity.SessionToken.Reveal(), loaded.SessionToken.Reveal());

        // A private key that does not belong to the public key is refused.
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(store.IdentityPath))!;
        json["publicKey"] = KeyPair.Generate().PublicKey;
        File.WriteAllText(store.IdentityPath, json.ToJsonString());
        Assert.Contains("does not match", Assert.Throws<StateException>(store.LoadIdentity).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void the_identity_is_replaced_by_rename_so_a_reader_never_sees_a_torn_file()
    {
        var store = Store;
        var first = Identity();
        store.SaveIdentity(first);
        var oldContent = File.ReadAllText(store.IdentityPath);
        // A second name for the old inode: an in-place rewrite would change what it shows, a rename does not.
        var witness = Path.Combine(_dir.FullName, "witness");
        Assert.True(link(store.IdentityPath, witness) == 0, $"link(2) failed: errno {Marshal.GetLastPInvokeError()}");

        var second = Identity();
        store.SaveIdentity(second);

        Assert.Equal(oldContent, File.ReadAllText(witness));
        Assert.Equal(second.PeerId, store.LoadIdentity().PeerId);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.IdentityPath));
        Assert.Empty(Directory.GetFiles(store.Directory, "*.tmp"));
    }

    [Fact]
    public void a_failed_write_leaves_the_old_file_and_no_temporary_file()
    {
        var store = Store;
        store.SaveIdentity(Identity());
        var before = File.ReadAllText(store.IdentityPath);
        // The target is a directory now: the final rename must fail.
        var target = Path.Combine(store.Directory, "blocked");
        Directory.CreateDirectory(target);

        Assert.ThrowsAny<IOException>(() => AtomicFile.Write(target, "x"u8));

        Assert.Equal(before, File.ReadAllText(store.IdentityPath));
        Assert.Empty(Directory.GetFiles(store.Directory, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void enrollment_stores_identity_and_first_config_but_never_the_enrollment_token()
    {
        var store = Store;
        const string enrollmentToken = "wet_enroll_5f1d2c9a7b3e4d6f8a0b";
        var command = (EnrollCommand)CommandLine.Parse(
            ["enroll", "--server", "https://wirety.example.com", "--token", enrollmentToken, "--state-dir", store.Directory]);
        var keys = KeyPair.Generate();
        var response = new EnrollResponse(Guid.NewGuid(), Guid.NewGuid(), "wst_session_0123456789", Config("3"));

        Enroll.Persist(store, command, response, keys, TimeProvider.System);

        var everything = string.Concat(Directory.GetFiles(store.Directory).Select(File.ReadAllText));
        Assert.DoesNotContain(enrollmentToken, everything, StringComparison.Ordinal);
        Assert.Equal("3", store.LoadConfig()!.Config.Version);
        Assert.Equal(response.PeerId, store.LoadIdentity().PeerId);
        // Only identity.json holds the secrets.
        foreach (var file in Directory.GetFiles(store.Directory).Where(f => !f.EndsWith("identity.json", StringComparison.Ordinal)))
        {
            var text = File.ReadAllText(file);
            Assert.DoesNotContain(keys.PrivateKey.Reveal(), text, StringComparison.Ordinal);
            Assert.DoesNotContain("wst_session_0123456789", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void the_last_known_good_config_round_trips_with_its_etag()
    {
        var store = Store;
        var config = Config("9") with { Forwarding = new AgentForwarding(["198.18.0.10/32"]), Kind = "jump" };

        store.SaveConfig(new SavedConfig(config, "\"abc\"", DateTimeOffset.UnixEpoch));
        var loaded = store.LoadConfig()!;

        Assert.Equal("\"abc\"", loaded.ETag);
        Assert.Equal(config.Version, loaded.Config.Version);
        Assert.Equal(config.Peers.Select(p => p.PublicKey), loaded.Config.Peers.Select(p => p.PublicKey));
        Assert.Equal(["198.18.0.10/32"], loaded.Config.Forwarding!.MasqueradeSources);
    }

    [Fact]
    public void the_saved_config_keeps_its_packet_filter_so_fail_static_keeps_enforcing_it()
    {
        var store = Store;
        var config = Config("9") with
        {
            Filter = new AgentFilter(
                [new AgentFilterRule("accept", ["198.18.0.10/32"], ["198.18.0.2/32"], ["tcp/22", "udp/53"])],
                [new AgentFilterRule("drop", [], [], [])]),
        };

        store.SaveConfig(new SavedConfig(config, "\"abc\"", DateTimeOffset.UnixEpoch));
        var filter = store.LoadConfig()!.Config.Filter!;

        var rule = Assert.Single(filter.Input);
        Assert.Equal(("accept", "198.18.0.10/32", "198.18.0.2/32", "tcp/22,udp/53"),
            (rule.Action, rule.Sources.Single(), rule.Destinations.Single(), string.Join(',', rule.Ports)));
        Assert.Equal("drop", Assert.Single(filter.Forward!).Action);
    }

    [Fact]
    public void a_missing_identity_says_how_to_enroll()
    {
        var e = Assert.Throws<StateException>(Store.LoadIdentity);

        Assert.Contains("wirety-agent enroll", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void the_public_view_of_the_identity_has_no_secrets()
    {
        var store = Store;
        var identity = Identity();
        store.SaveIdentity(identity);

        var text = store.PeekIdentity()!.ToString() + Encoding.UTF8.GetString(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(store.PeekIdentity()));

        Assert.DoesNotContain(identity.Keys.PrivateKey.Reveal(), text, StringComparison.Ordinal);
        Assert.DoesNotContain(identity.SessionToken.Reveal(), text, StringComparison.Ordinal);
        Assert.Contains(identity.Keys.PublicKey, text, StringComparison.Ordinal);
    }

    [Fact]
    public void only_one_run_may_hold_the_state_directory()
    {
        var store = Store;
        using (store.LockForRun())
        {
            Assert.Contains("another `wirety-agent run`", Assert.Throws<StateException>(() => store.LockForRun()).Message, StringComparison.Ordinal);
        }
        using (store.LockForRun()) { } // released with its holder
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int link(string oldpath, string newpath);
}
