using System.Text;
using DiffPlex;
using DiffPlex.Model;

namespace Wirety.Server.History;

/// <summary>
/// Renders the difference of two texts in the unified format of <c>diff -u</c> / <c>git diff</c>:
/// <c>---</c>/<c>+++</c> headers, then hunks <c>@@ -start,count +start,count @@</c> of changed lines with
/// up to <see cref="Context"/> unchanged lines around them; hunks whose context would touch are merged.
/// Equal texts give an empty string.
/// </summary>
/// <remarks>
/// The line diff is DiffPlex's (Myers' linear-space variant: memory O(N+M), so a large config diffed
/// against an empty one stays cheap). Only the rendering is ours: DiffPlex's own <c>UnidiffRenderer</c>
/// writes other hunk headers than diff does (<c>-1,0</c> for an empty side, counts of 1 spelled out).
/// </remarks>
public static class UnifiedDiff
{
    public const int Context = 3;

    public static string Render(string oldText, string newText, string oldLabel, string newLabel)
    {
        var result = Differ.Instance.CreateDiffs(oldText, newText, ignoreWhiteSpace: false, ignoreCase: false, LineChunker.Instance);
        if (result.DiffBlocks.Count == 0) return "";

        var output = new StringBuilder();
        output.Append("--- ").Append(oldLabel).Append('\n');
        output.Append("+++ ").Append(newLabel).Append('\n');
        var blocks = result.DiffBlocks;
        for (var first = 0; first < blocks.Count;)
        {
            // Changes closer than 2×Context unchanged lines share a hunk, as in diff -u.
            var last = first;
            while (last + 1 < blocks.Count && blocks[last + 1].DeleteStartA - EndA(blocks[last]) <= 2 * Context) last++;
            AppendHunk(output, result, first, last);
            first = last + 1;
        }
        return output.ToString();
    }

    private static void AppendHunk(StringBuilder output, DiffResult result, int first, int last)
    {
        var (a, b, blocks) = (result.PiecesOld, result.PiecesNew, result.DiffBlocks);
        var oldStart = Math.Max(0, blocks[first].DeleteStartA - Context);
        var oldEnd = Math.Min(a.Count, EndA(blocks[last]) + Context);
        var newStart = blocks[first].InsertStartB - (blocks[first].DeleteStartA - oldStart);
        var oldCount = oldEnd - oldStart;
        var newCount = oldCount;
        for (var i = first; i <= last; i++) newCount += blocks[i].InsertCountB - blocks[i].DeleteCountA;
        output.Append("@@ -").Append(Range(oldStart, oldCount)).Append(" +").Append(Range(newStart, newCount)).Append(" @@\n");

        var x = oldStart;
        for (var i = first; i <= last; i++)
        {
            var block = blocks[i];
            for (; x < block.DeleteStartA; x++) Line(output, ' ', a[x]);
            for (var d = 0; d < block.DeleteCountA; d++) Line(output, '-', a[x++]);
            for (var n = 0; n < block.InsertCountB; n++) Line(output, '+', b[block.InsertStartB + n]);
        }
        for (; x < oldEnd; x++) Line(output, ' ', a[x]);
    }

    private static int EndA(DiffBlock block) => block.DeleteStartA + block.DeleteCountA;

    private static void Line(StringBuilder output, char prefix, string line) => output.Append(prefix).Append(line).Append('\n');

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

    /// <summary>
    /// Splits as <see cref="Lines"/> does. DiffPlex's own line chunker also splits at a lone <c>\r</c>
    /// and turns a final newline into an extra empty line.
    /// </summary>
    private sealed class LineChunker : IChunker
    {
        public static readonly LineChunker Instance = new();
        public IReadOnlyList<string> Chunk(string text) => Lines(text);
    }
}
