using System.CommandLine;
using System.CommandLine.Parsing;

namespace Wirety.Agent.Cli;

/// <summary>
/// The first problem with a parse, in the agent's own words: System.CommandLine finds the problems,
/// but its wording ("Unrecognized command or argument") is replaced by the messages the agent has
/// always printed, which the docs and scripts quote.
/// </summary>
internal static class UsageErrors
{
    public static string? Describe(ParseResult parsed, IReadOnlyList<string> args)
    {
        var command = parsed.CommandResult;
        // System.CommandLine splits `--flag=value` and leaves `value` unmatched; say what was meant.
        foreach (var arg in args)
        {
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (!arg.StartsWith("--", StringComparison.Ordinal) || eq < 0) continue;
            if (command.Command.Options.FirstOrDefault(o => o.Name == arg[..eq]) is { Arity.MaximumNumberOfValues: 0 } flag)
                return $"{flag.Name} takes no value";
        }
        // `--token --force` would take "--force" as the token: an option's value never looks like an option.
        foreach (var option in command.Children.OfType<OptionResult>())
            if (option.Tokens.Any(t => t.Value.StartsWith("--", StringComparison.Ordinal)))
                return $"{option.Option.Name} needs a value";

        if (parsed.Errors.Count == 0) return null;
        if (parsed.UnmatchedTokens is [var unmatched, ..])
            return command.Command is RootCommand ? $"unknown command '{unmatched}'"
                : unmatched.StartsWith('-') ? $"unknown option '{unmatched}'"
                : $"unexpected argument '{unmatched}'";

        var error = parsed.Errors[0];
        return error.SymbolResult switch
        {
            OptionResult { IdentifierTokenCount: > 1 } o => $"{o.Option.Name} given more than once",
            OptionResult { Tokens.Count: 0 } o when o.Option.Arity.MinimumNumberOfValues > 0 => $"{o.Option.Name} needs a value",
            CommandResult { Command: RootCommand } => "no command given",
            _ => error.Message,
        };
    }
}
