using Microsoft.Extensions.Configuration;
using Wirety.Server.Operations;

namespace Wirety.Tests.Operations;

/// <summary>
/// Help and usage errors of the operator commands. Neither reaches a database, so these run without
/// one (WIRETY_DB unset: a command that got past its usage checks would exit 2 for that instead).
/// </summary>
public class CommandLineTests
{
    [Theory]
    [InlineData("backup --help", "wirety-server backup [options]", "--out <FILE>")]
    [InlineData("restore --help", "wirety-server restore [options]", "--in <FILE>", "--force")]
    [InlineData("projections --help", "wirety-server projections [command] [options]", "list", "rebuild")]
    [InlineData("projections list --help", "wirety-server projections list [options]")]
    [InlineData("projections rebuild -h", "wirety-server projections rebuild [<NAME>] [options]")]
    [InlineData("heartbeats --help", "wirety-server heartbeats [command] [options]", "archive")]
    [InlineData("heartbeats archive --help", "wirety-server heartbeats archive [options]", "--older-than-days <N>", "WIRETY_HEARTBEAT_RETENTION_DAYS")]
    [InlineData("--help", "wirety-server [command] [options]", "backup", "restore", "projections", "heartbeats", "WIRETY_DB")]
    [InlineData("help", "wirety-server [command] [options]", "backup", "restore", "projections", "heartbeats")]
    public async Task every_command_explains_itself_with_help(string commandLine, params string[] expected)
    {
        var result = await RunAsync(commandLine.Split(' '));

        Assert.True(result.ExitCode == OperationsCommandLine.Ok, result.ToString());
        Assert.All(expected, e => Assert.Contains(e, result.Out, StringComparison.Ordinal));
        Assert.Equal("", result.Error);
    }

    [Theory]
    [InlineData("backup --out a.wbk --in b.wbk", "unknown option --in", "wirety-server backup [options]")]
    [InlineData("backup --out a.wbk --out b.wbk", "--out given more than once", "wirety-server backup [options]")]
    [InlineData("restore --in --force", "--in needs a value", "wirety-server restore [options]")]
    [InlineData("restore --in x --force=yes", "--force takes no value", "wirety-server restore [options]")]
    [InlineData("projections", "projections needs a subcommand: list or rebuild", "wirety-server projections [command] [options]")]
    [InlineData("projections list extra", "unexpected argument 'extra'", "wirety-server projections list [options]")]
    [InlineData("heartbeats archive --older-than-days 1.5", "--older-than-days must be a whole number of days", "wirety-server heartbeats archive [options]")]
    public async Task a_usage_error_exits_2_with_its_message_and_the_commands_help(string commandLine, string message, string help)
    {
        var result = await RunAsync(commandLine.Split(' '));

        Assert.True(result.ExitCode == OperationsCommandLine.Usage, result.ToString());
        Assert.StartsWith($"wirety-server: {message}", result.Error, StringComparison.Ordinal);
        Assert.Contains(help, result.Error, StringComparison.Ordinal);
        Assert.Equal("", result.Out);
    }

    [Theory]
    [InlineData("backup")]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("help")]
    public void operator_commands_and_their_help_do_not_start_the_server(string first) =>
        Assert.True(OperationsCommandLine.Handles([first]));

    [Theory]
    [InlineData("--urls=http://127.0.0.1:9000")]
    [InlineData("--version")]
    public void anything_else_starts_the_server(string first) =>
        Assert.False(OperationsCommandLine.Handles([first]));

    private static async Task<(int ExitCode, string Out, string Error)> RunAsync(string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await OperationsCommandLine.RunAsync(args, new ConfigurationBuilder().Build(), stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
