using Wirety.Agent.Filtering;
using Wirety.Agent.WireGuard;
using Wirety.Events.Agent;
using Wirety.Tests.Agent.Fakes;

namespace Wirety.Tests.Agent.Filtering;

/// <summary><see cref="HostFilter"/> against a fake host: which commands it runs, and when it runs none.</summary>
public class HostFilterTests
{
    private static readonly FilterRuleset Ssh = FilterRuleset.Read(
        new AgentFilter([new AgentFilterRule("accept", ["198.18.0.10/32"], [], ["tcp/22"])], null), new List<string>());
    private static readonly FilterRuleset Nothing = FilterRuleset.Read(new AgentFilter([], null), new List<string>());

    /// <summary>A host whose nft keeps one table: what the last transaction installed, listed as nft would.</summary>
    private static RecordingRunner NftHost(Func<string?> table)
    {
        var runner = new RecordingRunner();
        runner.Override = (exe, args) => exe == "nft" && args is ["list", "table", "inet", "wirety_filter"]
            ? table() is { } listed ? new CommandResult("nft list", 0, listed, "") : new CommandResult("nft list", 1, "", "Error: No such file or directory")
            : null;
        return runner;
    }

    private static List<string> Writes(RecordingRunner runner) =>
        [.. runner.Commands.Where(c => c.Args is not ["list", ..] && c.Args is not ["-w", "-S"]).Select(c => c.Exe + " " + string.Join(' ', c.Args))];

    [Fact]
    public async Task nft_installs_the_filter_in_one_transaction_and_leaves_it_alone_while_it_is_unchanged()
    {
        string? table = null;
        var runner = new RecordingRunner();
        runner.Override = (exe, args) => exe == "nft" && args is ["list", ..]
            ? table is null ? new CommandResult("nft list", 1, "", "no such table") : new CommandResult("nft list", 0, table, "")
            : exe == "nft" && args is ["-f", "-"] ? Install() : null;
        CommandResult Install()
        {
            table = "listing of " + runner.Commands[^1].Stdin!.GetHashCode();
            return new CommandResult("nft -f -", 0, "", "");
        }
        var filter = new HostFilter(runner, TestData.Log());

        var first = await filter.ApplyAsync("wirety0", Ssh, default);
        var second = await filter.ApplyAsync("wirety0", Ssh, default);

        Assert.Equal(["installed the packet filter for wirety0: 1 input rule(s) (nftables table inet wirety_filter)"], first);
        Assert.Empty(second);
        var transaction = Assert.Single(runner.Commands, c => c.Args is ["-f", "-"]).Stdin!;
        Assert.Equal(NftFilterRules.Transaction("wirety0", Ssh), transaction);

        // Someone edits the table by hand: the next pass restores it.
        table = "edited";
        Assert.Equal(["restored (it had been changed outside the agent) the packet filter for wirety0: 1 input rule(s) (nftables table inet wirety_filter)"],
            await filter.ApplyAsync("wirety0", Ssh, default));

        // The rule goes away on the server: updated once.
        Assert.Single(await filter.ApplyAsync("wirety0", Nothing, default), c => c.StartsWith("updated", StringComparison.Ordinal));
        Assert.Empty(await filter.ApplyAsync("wirety0", Nothing, default));
        Assert.Equal(3, runner.Commands.Count(c => c.Args is ["-f", "-"]));
    }

    [Fact]
    public async Task removing_the_filter_deletes_the_agents_table_when_it_is_there_and_nothing_else()
    {
        var runner = NftHost(() => "table inet wirety_filter { }");
        var removed = await new HostFilter(runner, TestData.Log()).ApplyAsync("wirety0", null, default);
        Assert.Equal(["removed the packet filter for wirety0 (nftables table inet wirety_filter)"], removed);
        Assert.Equal(["nft delete table inet wirety_filter"], Writes(runner));

        var clean = NftHost(() => null);
        Assert.Empty(await new HostFilter(clean, TestData.Log()).ApplyAsync("wirety0", null, default));
        Assert.Empty(Writes(clean));
    }

    [Fact]
    public async Task without_nft_iptables_and_ip6tables_chains_are_restored_without_flushing_the_host_rules()
    {
        var lists = new Dictionary<string, string> { ["iptables"] = "-P INPUT ACCEPT\n", ["ip6tables"] = "-P INPUT ACCEPT\n" };
        var runner = new RecordingRunner();
        runner.Installed.Remove("nft");
        runner.Installed.UnionWith(["iptables", "ip6tables"]);
        runner.Override = (exe, args) =>
        {
            if (args is ["-w", "-S"]) return new CommandResult(exe, 0, lists[exe], "");
            if (exe.EndsWith("-restore", StringComparison.Ordinal))
                lists[exe[..^"-restore".Length]] += runner.Commands[^1].Stdin!.Contains("-I INPUT", StringComparison.Ordinal)
                    ? "-N WIRETY-INPUT\n-A INPUT -i wirety0 -j WIRETY-INPUT\n-A WIRETY-INPUT -j DROP\n" : "";
            return null;
        };
        var filter = new HostFilter(runner, TestData.Log());

        var changes = await filter.ApplyAsync("wirety0", Ssh, default);
        var again = await filter.ApplyAsync("wirety0", Ssh, default);

        Assert.Equal(2, changes.Count);
        Assert.Empty(again);
        Assert.Equal(["iptables-restore -w --noflush", "ip6tables-restore -w --noflush"], Writes(runner));
        var v4 = runner.Commands.First(c => c.Exe == "iptables-restore").Stdin!;
        Assert.Contains("-A WIRETY-INPUT -s 198.18.0.10/32 -p tcp -m tcp --dport 22 -j RETURN\n", v4, StringComparison.Ordinal);
        var v6 = runner.Commands.First(c => c.Exe == "ip6tables-restore").Stdin!;
        Assert.DoesNotContain("198.18", v6, StringComparison.Ordinal);
        Assert.EndsWith("-A WIRETY-INPUT -j DROP\n-I INPUT 1 -i wirety0 -j WIRETY-INPUT\nCOMMIT\n", v6, StringComparison.Ordinal);
    }

    [Fact]
    public async Task with_neither_nft_nor_iptables_the_filter_is_a_warning_once_not_a_crash()
    {
        var runner = new RecordingRunner();
        runner.Installed.Remove("nft");
        var log = new StringWriter();
        var filter = new HostFilter(runner, TestData.Log(log));

        Assert.Empty(await filter.ApplyAsync("wirety0", Ssh, default));
        Assert.Empty(await filter.ApplyAsync("wirety0", Ssh, default));

        Assert.Empty(runner.Commands);
        Assert.Single(log.ToString().Split('\n'), l => l.Contains("warn: neither nft nor iptables is installed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task a_failed_transaction_is_an_error_naming_the_command_not_a_silent_success()
    {
        var runner = NftHost(() => null);
        var inner = runner.Override!;
        runner.Override = (exe, args) => args is ["-f", "-"] ? new CommandResult("nft -f -", 1, "", "Error: Could not process rule: Operation not supported") : inner(exe, args);

        var e = await Assert.ThrowsAsync<WireGuardCommandException>(() => new HostFilter(runner, TestData.Log()).ApplyAsync("wirety0", Ssh, default));

        Assert.Contains("nft -f - (table inet wirety_filter) failed (exit 1): Error: Could not process rule", e.Message, StringComparison.Ordinal);
    }
}
