namespace Wirety.Projections.TextDiff;

public enum EditKind { Keep, Delete, Insert }

/// <summary>One line of an edit script: kept (in both), deleted (from the old text) or inserted (from the new one).</summary>
public readonly record struct Edit(EditKind Kind, string Line);

/// <summary>
/// Shortest edit script between two line lists with Myers' O((N+M)·D) greedy algorithm ("An O(ND)
/// Difference Algorithm and Its Variations", 1986): it explores diagonals k = x − y, keeping for each
/// the furthest x reachable with d edits, and backtracks through the saved frontiers. Configs are a few
/// hundred lines with few changes, so D is small and the saved frontiers stay tiny.
/// </summary>
public static class LineDiff
{
    public static IReadOnlyList<Edit> Compute(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        int n = a.Count, m = b.Count, max = n + m, offset = max + 1;
        var v = new int[2 * max + 3];
        var trace = new List<int[]>();
        var found = false;
        for (var d = 0; d <= max && !found; d++)
        {
            trace.Add((int[])v.Clone());
            for (var k = -d; k <= d; k += 2)
            {
                // Come down (insert) from diagonal k+1, or across (delete) from k-1, whichever got further.
                var x = k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]) ? v[offset + k + 1] : v[offset + k - 1] + 1;
                var y = x - k;
                while (x < n && y < m && a[x] == b[y]) { x++; y++; }
                v[offset + k] = x;
                if (x >= n && y >= m) { found = true; break; }
            }
        }
        return Backtrack(a, b, trace, offset);
    }

    private static List<Edit> Backtrack(IReadOnlyList<string> a, IReadOnlyList<string> b, List<int[]> trace, int offset)
    {
        var edits = new List<Edit>();
        int x = a.Count, y = b.Count;
        for (var d = trace.Count - 1; d >= 0; d--)
        {
            var v = trace[d];
            var k = x - y;
            var prevK = k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]) ? k + 1 : k - 1;
            var prevX = d == 0 ? 0 : v[offset + prevK];
            var prevY = prevX - prevK;
            while (x > prevX && y > prevY) { x--; y--; edits.Add(new Edit(EditKind.Keep, a[x])); }
            if (d > 0)
            {
                if (x == prevX) { y--; edits.Add(new Edit(EditKind.Insert, b[y])); }
                else { x--; edits.Add(new Edit(EditKind.Delete, a[x])); }
            }
        }
        edits.Reverse();
        return edits;
    }
}
