using System.Text.RegularExpressions;
using Wirety.Projections.TextDiff;

namespace Wirety.Tests.Unit.TextDiff;

public sealed partial class UnifiedDiffTests
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

    [Fact]
    public void the_edit_script_is_minimal_and_the_diff_applies_back_to_the_new_text_for_random_inputs()
    {
        var random = new Random(5);
        for (var round = 0; round < 500; round++)
        {
            var a = RandomLines(random);
            var b = random.Next(4) == 0 ? RandomLines(random) : Mutate(a, random);
            var edits = LineDiff.Compute(a, b);
            Assert.Equal(a, edits.Where(e => e.Kind != EditKind.Insert).Select(e => e.Line));
            Assert.Equal(b, edits.Where(e => e.Kind != EditKind.Delete).Select(e => e.Line));
            Assert.Equal(a.Count + b.Count - 2 * Lcs(a, b), edits.Count(e => e.Kind != EditKind.Keep));

            var oldText = a.Count == 0 ? "" : string.Join("\n", a) + "\n";
            var newText = b.Count == 0 ? "" : string.Join("\n", b) + "\n";
            var diff = UnifiedDiff.Render(oldText, newText, "a", "b");
            Assert.Equal(b, Apply(a, diff));
        }
    }

    private static List<string> RandomLines(Random random) =>
        Enumerable.Range(0, random.Next(0, 25)).Select(_ => ((char)('a' + random.Next(5))).ToString()).ToList();

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
