using System.Text;

namespace Wirety.Projections.TextDiff;

/// <summary>
/// Renders the difference of two texts in the unified format of <c>diff -u</c> / <c>git diff</c>:
/// <c>---</c>/<c>+++</c> headers, then hunks <c>@@ -start,count +start,count @@</c> of changed lines with
/// up to <see cref="Context"/> unchanged lines around them; hunks whose context would touch are merged.
/// Equal texts give an empty string.
/// </summary>
public static class UnifiedDiff
{
    public const int Context = 3;

    public static string Render(string oldText, string newText, string oldLabel, string newLabel)
    {
        var a = Lines(oldText);
        var b = Lines(newText);
        var edits = LineDiff.Compute(a, b);
        if (edits.All(e => e.Kind == EditKind.Keep)) return "";

        var output = new StringBuilder();
        output.Append("--- ").Append(oldLabel).Append('\n');
        output.Append("+++ ").Append(newLabel).Append('\n');

        // Line numbers (0-based) in the old and new text where each edit sits.
        var oldAt = new int[edits.Count];
        var newAt = new int[edits.Count];
        for (int i = 0, x = 0, y = 0; i < edits.Count; i++)
        {
            oldAt[i] = x; newAt[i] = y;
            if (edits[i].Kind != EditKind.Insert) x++;
            if (edits[i].Kind != EditKind.Delete) y++;
        }

        // Changes closer than 2×Context kept lines share a hunk, as in diff -u.
        var changes = Enumerable.Range(0, edits.Count).Where(i => edits[i].Kind != EditKind.Keep).ToList();
        for (var c = 0; c < changes.Count; c++)
        {
            int first = changes[c], last = first;
            while (c + 1 < changes.Count && changes[c + 1] - last - 1 <= 2 * Context) last = changes[++c];
            var start = Math.Max(0, first - Context);
            var end = Math.Min(edits.Count - 1, last + Context);

            var hunk = edits.Skip(start).Take(end - start + 1).ToList();
            var oldCount = hunk.Count(e => e.Kind != EditKind.Insert);
            var newCount = hunk.Count(e => e.Kind != EditKind.Delete);
            output.Append("@@ -").Append(Range(oldAt[start], oldCount)).Append(" +").Append(Range(newAt[start], newCount)).Append(" @@\n");
            foreach (var e in hunk)
                output.Append(e.Kind switch { EditKind.Keep => ' ', EditKind.Delete => '-', _ => '+' }).Append(e.Line).Append('\n');
        }
        return output.ToString();
    }

    /// <summary>As diff writes it: 1-based start, count omitted when 1, and an empty range as "start-before,0".</summary>
    private static string Range(int zeroBasedStart, int count) => count switch
    {
        0 => $"{zeroBasedStart},0",
        1 => $"{zeroBasedStart + 1}",
        _ => $"{zeroBasedStart + 1},{count}",
    };

    /// <summary>Lines without their terminators; a final newline does not make an extra empty line.</summary>
    public static IReadOnlyList<string> Lines(string text)
    {
        if (text.Length == 0) return [];
        var lines = text.Replace("\r\n", "\n").Split('\n');
        return text.EndsWith('\n') ? lines[..^1] : lines;
    }
}
