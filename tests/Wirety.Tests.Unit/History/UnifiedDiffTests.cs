using System.Text.RegularExpressions;
using Wirety.Events.Peers;
using Wirety.Projections.Configs;
using Wirety.Server.History;
using Xunit.Abstractions;

namespace Wirety.Tests.Unit.History;

public sealed partial class UnifiedDiffTests(ITestOutputHelper output)
{
    [Fact]
    public void equal_texts_have_an_empty_diff()
    {
        Assert.Equal("", UnifiedDiff.Render("a\nb\n", "a\nb\n", "old", "new"));
        Assert.Equal("", UnifiedDiff.Render("", "", "old", "new"));
    }

    [Fact]
    public void a_changed_line_is_shown_with_three_lines_of_context_like_diff_u()
    {
        var old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        var @new = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
        Assert.Equal("""
            --- a
            +++ b
            @@ -2,7 +2,7 @@
             2
             3
             4
            -5
            +five
             6
             7
             8

            """.Replace("\r\n", "\n"), UnifiedDiff.Render(old, @new, "a", "b"));
    }

    [Fact]
    public void distant_changes_get_separate_hunks_and_near_ones_share_one()
    {
        var lines = Enumerable.Range(1, 30).Select(i => i.ToString()).ToList();
        var changed = lines.ToList();
        changed[1] = "two"; changed[25] = "twenty-six"; changed[28] = "twenty-nine";
        var diff = UnifiedDiff.Render(string.Join("\n", lines) + "\n", string.Join("\n", changed) + "\n", "a", "b");
        Assert.Equal(["@@ -1,5 +1,5 @@", "@@ -23,8 +23,8 @@"], HunkHeader().Matches(diff).Select(m => m.Value));
    }

    [Fact]
    public void creation_and_removal_are_diffs_against_nothing()
    {
        Assert.Equal("--- a\n+++ b\n@@ -0,0 +1,2 @@\n+x\n+y\n", UnifiedDiff.Render("", "x\ny\n", "a", "b"));
        Assert.Equal("--- a\n+++ b\n@@ -1 +0,0 @@\n-x\n", UnifiedDiff.Render("x\n", "", "a", "b"));
    }

    /// <remarks>
    /// DiffPlex does not document minimality; it implements Myers' linear-space (middle snake)
    /// refinement, which finds a shortest edit script. Checked against the LCS length here; small
    /// alphabets make many equal lines, where a heuristic would first give a longer script.
    /// </remarks>
    [Theory]
    [InlineData(5)]
    [InlineData(3)]
    [InlineData(2)]
    public void the_diff_applies_back_to_the_new_text_and_changes_as_few_lines_as_possible_for_random_inputs(int alphabet)
    {
        var random = new Random(5);
        for (var round = 0; round < 2000; round++)
        {
            var a = RandomLines(random, alphabet);
            var b = random.Next(4) == 0 ? RandomLines(random, alphabet) : Mutate(a, random);
            var oldText = a.Count == 0 ? "" : string.Join("\n", a) + "\n";
            var newText = b.Count == 0 ? "" : string.Join("\n", b) + "\n";
            var diff = UnifiedDiff.Render(oldText, newText, "a", "b");
            Assert.Equal(b, Apply(a, diff));
            // Every changed line is in some hunk, so the -/+ lines are the whole edit script.
            var changed = UnifiedDiff.Lines(diff).Skip(2).Count(l => l[0] is '-' or '+');
            Assert.True(a.Count + b.Count - 2 * Lcs(a, b) == changed, $"round {round}: {changed} changed lines for {string.Join("", a)} -> {string.Join("", b)}");
        }
    }

    [Fact]
    public void a_10000_peer_jump_config_diffed_against_nothing_allocates_a_few_times_its_own_size()
    {
        var network = TestNetwork.Create(cidr: "10.0.0.0/16").AddPeer(Hub, "hub", PeerKind.Jump, TestNetwork.Key(1), "hub.example.net:51820", 51820, address: "10.0.0.1");
        for (var i = 2; i <= 10_001; i++)
            network = network.AddPeer(TestNetwork.PeerId(i), $"peer-{i}", PeerKind.Dynamic, TestNetwork.Key(i), address: $"10.0.{i / 256}.{i % 256}");
        var config = WgQuickRenderer.Render(ConfigBuilder.Build(network, Hub));
        Assert.Equal(10_000, config.Split('\n').Count(l => l == "[Peer]"));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var diff = UnifiedDiff.Render("", config, "a", "b");
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        var lines = UnifiedDiff.Lines(config);
        Assert.Equal($"--- a\n+++ b\n@@ -0,0 +1,{lines.Count} @@\n" + string.Concat(lines.Select(l => $"+{l}\n")), diff);
        // The old hand-written Myers diff kept one frontier per edit: O((N+M)·D) ints, ~29 GB here.
        // Text in, text out and the line arrays are a few MB; allow a generous multiple, no more.
        var configBytes = config.Length * sizeof(char);
        output.WriteLine($"{lines.Count:N0} lines, {configBytes:N0} bytes of config, {allocated:N0} bytes allocated by the diff");
        Assert.True(allocated < 50_000_000, $"allocated {allocated:N0} bytes for a {configBytes:N0}-byte config");
        Assert.True(allocated < 12L * configBytes, $"allocated {allocated:N0} bytes for a {configBytes:N0}-byte config");
    }

    private static readonly Guid Hub = TestNetwork.PeerId(1);

    private static List<string> RandomLines(Random random, int alphabet) =>
        Enumerable.Range(0, random.Next(0, 25)).Select(_ => ((char)('a' + random.Next(alphabet))).ToString()).ToList();

    private static List<string> Mutate(List<string> lines, Random random)
    {
        var result = lines.ToList();
        for (var i = random.Next(0, 5); i > 0; i--)
        {
            var at = random.Next(result.Count + 1);
            switch (random.Next(3))
            {
                case 0: result.Insert(at, "new" + random.Next(3)); break;
                case 1 when at < result.Count: result.RemoveAt(at); break;
                case 2 when at < result.Count: result[at] = "changed"; break;
            }
        }
        return result;
    }

    private static int Lcs(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        var t = new int[a.Count + 1, b.Count + 1];
        for (var i = a.Count - 1; i >= 0; i--)
        for (var j = b.Count - 1; j >= 0; j--)
            t[i, j] = a[i] == b[j] ? t[i + 1, j + 1] + 1 : Math.Max(t[i + 1, j], t[i, j + 1]);
        return t[0, 0];
    }

    /// <summary>A strict patch: every hunk's position and context must match the old text exactly.</summary>
    private static List<string> Apply(List<string> a, string diff)
    {
        if (diff == "") return a.ToList();
        var lines = UnifiedDiff.Lines(diff);
        Assert.StartsWith("--- ", lines[0]);
        Assert.StartsWith("+++ ", lines[1]);
        var result = new List<string>();
        var consumed = 0;
        var i = 2;
        while (i < lines.Count)
        {
            var header = HunkHeader().Match(lines[i]);
            Assert.True(header.Success, lines[i]);
            var oldStart = int.Parse(header.Groups[1].Value);
            var oldCount = header.Groups[2].Success ? int.Parse(header.Groups[2].Value) : 1;
            var copyUpTo = oldCount == 0 ? oldStart : oldStart - 1;
            result.AddRange(a.Skip(consumed).Take(copyUpTo - consumed));
            consumed = copyUpTo;
            var seenOld = 0;
            for (i++; i < lines.Count && !lines[i].StartsWith("@@"); i++)
            {
                var body = lines[i][1..];
                switch (lines[i][0])
                {
                    case ' ': Assert.Equal(a[consumed], body); result.Add(body); consumed++; seenOld++; break;
                    case '-': Assert.Equal(a[consumed], body); consumed++; seenOld++; break;
                    case '+': result.Add(body); break;
                    default: Assert.Fail("bad line " + lines[i]); break;
                }
            }
            Assert.Equal(oldCount, seenOld);
        }
        result.AddRange(a.Skip(consumed));
        return result;
    }

    [GeneratedRegex(@"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", RegexOptions.Multiline)]
    private static partial Regex HunkHeader();
}
