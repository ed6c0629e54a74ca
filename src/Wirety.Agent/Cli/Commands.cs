using System.CommandLine;
using Wirety.Agent.Running;

namespace Wirety.Agent.Cli;

/// <summary>What the command line asks for, as data: <see cref="CommandLine.Parse"/> builds it, Program runs it.</summary>
public abstract record Command;

/// <summary>Help for the agent or one of its commands; <paramref name="Request"/> is a parse whose action prints it.</summary>
public sealed record HelpCommand(ParseResult Request) : Command;
public sealed record VersionCommand : Command;

/// <param name="Token">From <c>--token</c> or WIRETY_ENROLL_TOKEN; null means "read it from stdin" (<c>--token -</c>). A <see cref="Identity.Secret"/>, so printing the command never shows it.</param>
public sealed record EnrollCommand(Uri Server, Identity.Secret? Token, bool TokenFromStdin, string StateDirectory, string? Hostname, bool Force, bool InsecureHttp = false) : Command;
public sealed record RunCommand(RunOptions Options) : Command;
public sealed record StatusCommand(string StateDirectory, string Interface) : Command;
public sealed record RotateKeyCommand(string StateDirectory, bool InsecureHttp = false) : Command;

public sealed class UsageException(string message) : Exception(message);
