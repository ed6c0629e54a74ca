using System.Text;
using System.Text.Json;
using Wirety.Agent.Cli;
using Wirety.Agent.Identity;
using Wirety.Agent.Logging;
using Wirety.Agent.Running;
using Wirety.Agent.Server;
using Wirety.Agent.WireGuard;
using Wirety.Events.Agent;
using Wirety.Tests.Agent.Fakes;
using static Wirety.Tests.Agent.TestData;

namespace Wirety.Tests.Agent.Security;

/// <summary>The private key stays on the machine: not in requests, argv, logs, exceptions or printed values.</summary>
public class NoSecretLeakTests
{
    private static readonly Uri Server = new("https://wirety.example.com/");

    private static async Task<string> SerializeAsync(HttpRequestMessage request)
    {
        var text = new StringBuilder().Append(request.Method).Append(' ').Append(request.RequestUri).Append('\n');
        foreach (var header in request.Headers) text.Append(header.Key).Append(": ").AppendJoin(", ", header.Value).Append('\n');
        if (request.Content is not null)
        {
            foreach (var header in request.Content.Headers) text.Append(header.Key).Append(": ").AppendJoin(", ", header.Value).Append('\n');
            var body = await request.Content.ReadAsStringAsync();
            text.Append(body).Append('\n');
            // JSON may escape characters of a base64 key ('+' becomes \u002B): compare decoded strings too.
            using var doc = JsonDocument.Parse(body);
            AppendStrings(doc.RootElement, text);
        }
        return text.ToString();
    }

    private static void AppendStrings(JsonElement element, StringBuilder text)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String: text.Append(element.GetString()).Append('\n'); break;
            case JsonValueKind.Object: foreach (var p in element.EnumerateObject()) AppendStrings(p.Value, text); break;
            case JsonValueKind.Array: foreach (var e in element.EnumerateArray()) AppendStrings(e, text); break;
        }
    }

    [Fact]
    public async Task no_request_the_agent_sends_contains_the_private_key()
    {
        var keys = KeyPair.Generate();
        var session = new Secret("wst_session_abcdef");
        const string enrollmentToken = "wet_enroll_123456";
        // A heartbeat with real content: built from an interface configured with these keys.
        var wg = new InMemoryWireGuard();
        await new InterfacePass(wg, new RecordingForwarding(), new RecordingFilter(), "wirety0", keys, Log()).ApplyAsync(Config(), default);
        var heartbeat = Heartbeats.Build("laptop", await wg.ShowAsync("wirety0", default), TimeSpan.FromMinutes(5), ["192.0.2.5:51820"]);

        var enroll = await SerializeAsync(AgentRequests.Enroll(Server, new EnrollRequest(enrollmentToken, keys.PublicKey, "laptop", AgentVersion.Current)));
        var others = new[]
        {
            await SerializeAsync(AgentRequests.GetConfig(Server, session, "\"etag\"")),
            await SerializeAsync(AgentRequests.Heartbeat(Server, session, heartbeat)),
            AgentRequests.WebSocket(Server) + "\nAuthorization: " + AgentRequests.BearerValue(session),
            AgentRequests.WebSocket(Server, deltas: true) + "\nAuthorization: " + AgentRequests.BearerValue(session),
            // rotate-key to this pair: its public key only.
            await SerializeAsync(AgentRequests.RotateKey(Server, session, new RotateKeyRequest(keys.PublicKey))),
        };

        foreach (var request in others.Append(enroll))
        {
            Assert.DoesNotContain(keys.PrivateKey.Reveal(), request, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToHexString(Convert.FromBase64String(keys.PrivateKey.Reveal())), request, StringComparison.OrdinalIgnoreCase);
        }
        Assert.Contains(keys.PublicKey, enroll, StringComparison.Ordinal);
        Assert.Contains(enrollmentToken, enroll, StringComparison.Ordinal);
        Assert.All(others, r => Assert.DoesNotContain(enrollmentToken, r, StringComparison.Ordinal));
        Assert.Contains("\"peerStats\"", others[1], StringComparison.Ordinal);
        Assert.Contains("\"listenPort\":51820", others[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task the_private_key_reaches_wg_on_stdin_only_never_in_argv()
    {
        var keys = KeyPair.Generate();
        var runner = new RecordingRunner();
        var sink = new StringWriter();
        var wg = new WgCommandLine(runner, Log(sink));

        var result = await new InterfacePass(wg, new RecordingForwarding(), new RecordingFilter(), "wirety0", keys, Log(sink)).ApplyAsync(Config(), default);

        Assert.True(result.Succeeded, string.Join("\n", result.Failures));
        var setKey = Assert.Single(runner.Commands, c => c.Args.Contains("private-key"));
        Assert.Equal(["set", "wirety0", "private-key", "/dev/stdin"], setKey.Args);
        Assert.Equal(keys.PrivateKey.Reveal() + "\n", setKey.Stdin);
        Assert.All(runner.Commands, c => Assert.DoesNotContain(keys.PrivateKey.Reveal(), string.Join(' ', c.Args), StringComparison.Ordinal));
        Assert.All(runner.Commands.Where(c => c != setKey), c => Assert.True(c.Stdin is null || !c.Stdin.Contains(keys.PrivateKey.Reveal(), StringComparison.Ordinal)));
        Assert.DoesNotContain(keys.PrivateKey.Reveal(), sink.ToString(), StringComparison.Ordinal);
        Assert.Contains("set private key", sink.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_failing_set_private_key_does_not_repeat_the_key()
    {
        var keys = KeyPair.Generate();
        var runner = new RecordingRunner
        {
            // What wg prints for a key it cannot parse: the key itself.
            Override = (exe, args) => args.Contains("private-key")
                ? new CommandResult("wg set", 1, "", $"Key is not the correct length or format: `{keys.PrivateKey.Reveal()}'\n")
                : null,
        };
        var wg = new WgCommandLine(runner, Log());

        var e = await Assert.ThrowsAsync<WireGuardCommandException>(() => wg.SetPrivateKeyAsync("wirety0", keys.PrivateKey, default));

        Assert.DoesNotContain(keys.PrivateKey.Reveal(), e.Message, StringComparison.Ordinal);
        Assert.Contains("private-key failed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void a_wg_dump_is_parsed_without_keeping_the_private_key()
    {
        var keys = KeyPair.Generate();
        var dump = $"{keys.PrivateKey.Reveal()}\t{keys.PublicKey}\t51820\toff\n";

        var device = WgDump.Parse(dump);

        Assert.DoesNotContain(keys.PrivateKey.Reveal(), device.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(keys.PrivateKey.Reveal(), JsonSerializer.Serialize(device), StringComparison.Ordinal);
        var bad = Assert.Throws<FormatException>(() => WgDump.Parse($"{keys.PrivateKey.Reveal()}\t{keys.PublicKey}\tNaN\toff\n"));
        Assert.DoesNotContain(keys.PrivateKey.Reveal(), bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void secrets_print_and_serialize_as_nothing()
    {
        var keys = KeyPair.Generate();
        var identity = new AgentIdentity(Server, Guid.NewGuid(), Guid.NewGuid(), keys, new Secret("wst_session_xyz"), null, DateTimeOffset.UnixEpoch);
        var enroll = CommandLine.Parse(["enroll", "--server", "https://wirety.example.com", "--token", "wet_enroll_999"]);

        var printed = $"{identity} {keys} {keys.PrivateKey} {enroll} {JsonSerializer.Serialize(identity)} {JsonSerializer.Serialize(enroll)}";

        Assert.DoesNotContain(keys.PrivateKey.Reveal(), printed, StringComparison.Ordinal);
        Assert.DoesNotContain("wst_session_xyz", printed, StringComparison.Ordinal);
        Assert.DoesNotContain("wet_enroll_999", printed, StringComparison.Ordinal);
        Assert.Contains("[redacted]", printed, StringComparison.Ordinal);
    }
}
