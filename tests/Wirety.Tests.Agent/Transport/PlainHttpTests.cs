using Wirety.Agent.Cli;
using Wirety.Agent.Identity;
using Wirety.Agent.Running;
using Wirety.Agent.State;
using Wirety.Tests.Agent.Fakes;
using static Wirety.Tests.Agent.TestData;

namespace Wirety.Tests.Agent.Transport;

/// <summary>
/// Plain http:// is accepted on loopback and, elsewhere, only with <c>--insecure-http</c>, on both
/// <c>enroll</c> and <c>run</c> (which reads the server URL back from identity.json).
/// </summary>
public class PlainHttpTests
{
    private static readonly Func<string, string?> NoEnv = _ => null;

    [Theory]
    [InlineData("https://wirety.example.com", false)]
    [InlineData("http://127.0.0.1:5080", false)]
    [InlineData("http://localhost:5080", false)]
    [InlineData("http://[::1]:5080", false)]
    [InlineData("http://198.18.0.1:5080", true)]
    [InlineData("http://wirety.example.com", true)]
    public void plain_http_is_refused_only_off_loopback(string server, bool refused)
    {
        Assert.Equal(refused, RunDecisions.PlainHttpRefusal(new Uri(server), insecureHttp: false) is not null);
        Assert.Null(RunDecisions.PlainHttpRefusal(new Uri(server), insecureHttp: true));
    }

    [Fact]
    public void enroll_and_run_take_insecure_http()
    {
        var enroll = Assert.IsType<EnrollCommand>(CommandLine.Parse(["enroll", "--server", "http://198.18.0.1", "--token", "wet_x", "--insecure-http"], NoEnv));
        var run = Assert.IsType<RunCommand>(CommandLine.Parse(["run", "--insecure-http"], NoEnv));
        var plain = Assert.IsType<RunCommand>(CommandLine.Parse(["run"], NoEnv));

        Assert.True(enroll.InsecureHttp);
        Assert.True(run.Options.InsecureHttp);
        Assert.False(plain.Options.InsecureHttp);
    }

    [Fact]
    public async Task enroll_over_plain_http_off_loopback_is_refused_before_the_token_is_sent()
    {
        var dir = Directory.CreateTempSubdirectory("wirety-agent-test-");
        try
        {
            var sink = new StringWriter();
            // 192.0.2.1 (TEST-NET-1) is never contacted: the refusal comes first.
            var command = new EnrollCommand(new Uri("http://192.0.2.1:5080"), new Secret("wet_never_sent"), false, dir.FullName, null, false);

            var exit = await Enroll.RunAsync(command, TextReader.Null, TextWriter.Null, Log(sink), TimeProvider.System, default);

            Assert.Equal(CommandLine.UsageExitCode, exit);
            Assert.Contains("--insecure-http", sink.ToString(), StringComparison.Ordinal);
            Assert.False(new StateStore(dir.FullName).HasIdentity);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task run_refuses_an_identity_enrolled_over_plain_http_unless_told_otherwise()
    {
        var dir = Directory.CreateTempSubdirectory("wirety-agent-test-");
        try
        {
            var store = new StateStore(dir.FullName);
            var identity = new AgentIdentity(new Uri("http://192.0.2.1:5080/"), Guid.NewGuid(), Guid.NewGuid(), Self,
                new Secret("wst_session"), null, DateTimeOffset.UnixEpoch, "dynamic");
            var options = new RunOptions(dir.FullName, "wirety0", false, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60), [], false);
            var wg = new InMemoryWireGuard();
            var sink = new StringWriter();

            var exit = await new AgentRunner(options, identity, store, wg, new RecordingForwarding(), new RecordingFilter(), Log(sink), TimeProvider.System)
                .RunAsync(default);

            Assert.Equal(CommandLine.UsageExitCode, exit);
            Assert.Contains("refusing plain http:// to 192.0.2.1:5080", sink.ToString(), StringComparison.Ordinal);
            Assert.Empty(wg.Calls);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
