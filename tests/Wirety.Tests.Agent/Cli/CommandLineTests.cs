using Wirety.Agent.Cli;

namespace Wirety.Tests.Agent.Cli;

public class CommandLineTests
{
    private static readonly Func<string, string?> NoEnv = _ => null;

    [Fact]
    public void enroll_reads_server_token_state_dir_and_hostname()
    {
        var c = Assert.IsType<EnrollCommand>(CommandLine.Parse(
            ["enroll", "--server", "https://wirety.example.com/base", "--token=wet_abc", "--state-dir", "/tmp/w", "--hostname", "laptop"], NoEnv));

        Assert.Equal("https://wirety.example.com/base", c.Server.ToString());
        Assert.Equal("wet_abc", c.Token!.Reveal());
        Assert.Equal("/tmp/w", c.StateDirectory);
        Assert.Equal("laptop", c.Hostname);
        Assert.False(c.Force);
    }

    [Fact]
    public void the_enrollment_token_can_come_from_stdin_or_the_environment()
    {
        var stdin = Assert.IsType<EnrollCommand>(CommandLine.Parse(["enroll", "--server", "https://w.example", "--token", "-"], NoEnv));
        var env = Assert.IsType<EnrollCommand>(CommandLine.Parse(["enroll", "--server", "https://w.example"],
            name => name == "WIRETY_ENROLL_TOKEN" ? "wet_env" : null));

        Assert.True(stdin.TokenFromStdin);
        Assert.Null(stdin.Token);
        Assert.Equal("wet_env", env.Token!.Reveal());
        Assert.Equal("/var/lib/wirety", env.StateDirectory);
    }

    [Fact]
    public void run_has_sensible_defaults()
    {
        var c = Assert.IsType<RunCommand>(CommandLine.Parse(["run"], NoEnv)).Options;

        Assert.Equal("/var/lib/wirety", c.StateDirectory);
        Assert.Equal("wirety0", c.Interface);
        Assert.False(c.Userspace);
        Assert.Equal(TimeSpan.FromSeconds(30), c.HeartbeatInterval);
        Assert.Equal(TimeSpan.FromSeconds(60), c.PollInterval);
        Assert.Empty(c.Endpoints);
    }

    [Fact]
    public void run_reads_every_option()
    {
        var c = Assert.IsType<RunCommand>(CommandLine.Parse(
            ["run", "--state-dir", "/srv/w", "--interface", "wg-mesh", "--userspace", "--heartbeat-interval", "2m",
             "--poll-interval=90s", "--endpoint", "192.0.2.7:51820", "--endpoint", "[2001:db8::1]:51820", "--verbose"], NoEnv)).Options;

        Assert.Equal("/srv/w", c.StateDirectory);
        Assert.Equal("wg-mesh", c.Interface);
        Assert.True(c.Userspace);
        Assert.True(c.Verbose);
        Assert.Equal(TimeSpan.FromMinutes(2), c.HeartbeatInterval);
        Assert.Equal(TimeSpan.FromSeconds(90), c.PollInterval);
        Assert.Equal(["192.0.2.7:51820", "[2001:db8::1]:51820"], c.Endpoints);
    }

    [Theory]
    [InlineData("no command given")]
    [InlineData("unknown command 'start'", "start")]
    [InlineData("enroll needs --server URL", "enroll", "--token", "t")]
    [InlineData("enroll needs --token TOKEN", "enroll", "--server", "https://w.example")]
    [InlineData("--server must be an http(s) URL", "enroll", "--server", "ftp://w.example", "--token", "t")]
    [InlineData("--token must not be empty", "enroll", "--server", "https://w.example", "--token", " ")]
    [InlineData("unknown option '--bogus'", "run", "--bogus")]
    [InlineData("--interface must be 1-15 characters", "run", "--interface", "this-name-is-far-too-long")]
    [InlineData("--interface must be 1-15 characters", "run", "--interface", "-rf")]
    [InlineData("--heartbeat-interval must be a duration", "run", "--heartbeat-interval", "soon")]
    [InlineData("--poll-interval must be at least 5s", "run", "--poll-interval", "1s")]
    [InlineData("--endpoint must be HOST:PORT", "run", "--endpoint", "192.0.2.7")]
    [InlineData("--state-dir needs a value", "status", "--state-dir")]
    [InlineData("--userspace takes no value", "run", "--userspace=yes")]
    [InlineData("--interface given more than once", "run", "--interface", "a", "--interface", "b")]
    [InlineData("unexpected argument 'extra'", "status", "extra")]
    [InlineData("--token needs a value", "enroll", "--server", "https://w.example", "--token", "--force")]
    [InlineData("--hostname must be 1-253 printable characters", "enroll", "--server", "https://w.example", "--token", "t", "--hostname", "")]
    public void bad_arguments_are_usage_errors_that_say_what_is_wrong(string expected, params string[] args)
    {
        var e = Assert.Throws<UsageException>(() => CommandLine.Parse(args, NoEnv));

        Assert.StartsWith(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("30s", 30)]
    [InlineData("30", 30)]
    [InlineData("2m", 120)]
    [InlineData("1h", 3600)]
    [InlineData("1500ms", 1.5)]
    [InlineData("0.5m", 30)]
    public void durations_take_units(string text, double seconds)
    {
        Assert.True(CommandLine.TryParseDuration(text, out var value));
        Assert.Equal(TimeSpan.FromSeconds(seconds), value);
    }

    [Fact]
    public void help_is_not_an_error()
    {
        Assert.IsType<HelpCommand>(CommandLine.Parse(["--help"], NoEnv));
        Assert.IsType<HelpCommand>(CommandLine.Parse(["run", "--help"], NoEnv));
        Assert.IsType<HelpCommand>(CommandLine.Parse(["help"], NoEnv));

        var help = Interpret("--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("exit codes: 0 ok · 1 failure · 2 usage error · 3 session revoked", help.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("enroll", "--server", "--token", "--state-dir", "--hostname", "--force")]
    [InlineData("run", "--state-dir", "--interface", "--userspace", "--heartbeat-interval", "--poll-interval", "--endpoint", "--verbose")]
    [InlineData("status", "--state-dir", "--interface")]
    public void every_command_explains_its_options_with_help(string command, params string[] options)
    {
        foreach (var flag in new[] { "--help", "-h" })
        {
            var help = Interpret(command, flag);

            Assert.True(help.ExitCode == 0, help.ToString());
            Assert.Contains($"wirety-agent {command} [options]", help.Out, StringComparison.Ordinal);
            Assert.All(options, o => Assert.Contains(o, help.Out, StringComparison.Ordinal));
            Assert.Equal("", help.Error);
        }
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("help")]
    public void the_agents_help_lists_its_commands(string flag)
    {
        var help = Interpret(flag);

        Assert.True(help.ExitCode == 0, help.ToString());
        Assert.All(new[] { "enroll", "run", "status" }, c => Assert.Contains(c, help.Out, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--version")]
    [InlineData("version")]
    public void the_version_is_printed(string flag)
    {
        var version = Interpret(flag);

        Assert.Equal(0, version.ExitCode);
        Assert.Matches(@"^wirety-agent \d+\.\d+\.\d+\s*$", version.Out);
    }

    [Theory]
    [InlineData("unknown option '--bogus'", "run", "--bogus")]
    [InlineData("no command given")]
    [InlineData("enroll needs --server URL", "enroll")]
    public void a_usage_error_exits_2_with_its_message_and_a_pointer_to_help(string expected, params string[] args)
    {
        var result = Interpret(args);

        Assert.Equal(CommandLine.UsageExitCode, result.ExitCode);
        Assert.Null(result.Command);
        Assert.StartsWith($"wirety-agent: {expected}", result.Error, StringComparison.Ordinal);
        Assert.Contains("--help' for usage", result.Error, StringComparison.Ordinal);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public void a_valid_command_line_is_handed_back_to_run()
    {
        var result = Interpret("status", "--interface", "wg1");

        Assert.Equal(new StatusCommand("/var/lib/wirety", "wg1"), result.Command);
        Assert.Equal("", result.Out + result.Error);
    }

    private sealed record Interpreted(Command? Command, int ExitCode, string Out, string Error);

    private static Interpreted Interpret(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var (command, code) = CommandLine.Interpret(args, stdout, stderr, NoEnv);
        return new Interpreted(command, code, stdout.ToString(), stderr.ToString());
    }
}
