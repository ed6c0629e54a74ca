using System.Globalization;

namespace Wirety.Testing;

/// <summary>Finds the PostgreSQL server tools (initdb, pg_ctl).</summary>
public static class PostgresBinaries
{
    public const string InstallHint =
        "Install them with `apt-get install -y postgresql` (or run `ops/install-prereqs.sh --postgresql` from the repository root), " +
        "or set WIRETY_PG_BIN to the directory that holds initdb and pg_ctl.";

    /// <summary>$WIRETY_PG_BIN, else the highest /usr/lib/postgresql/N/bin, else the PATH.</summary>
    public static string Locate()
    {
        var env = Environment.GetEnvironmentVariable("WIRETY_PG_BIN");
        if (!string.IsNullOrWhiteSpace(env))
        {
            if (HasServerTools(env)) return env;
            throw new PostgresClusterException($"WIRETY_PG_BIN={env} does not contain initdb and pg_ctl. {InstallHint}");
        }

        const string debianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(debianRoot))
        {
            var best = Directory.GetDirectories(debianRoot)
                .Select(d => (Dir: Path.Combine(d, "bin"), Version: ParseVersion(Path.GetFileName(d))))
                .Where(x => x.Version is not null && HasServerTools(x.Dir))
                .OrderByDescending(x => x.Version)
                .FirstOrDefault();
            if (best.Dir is not null) return best.Dir;
        }

        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            if (HasServerTools(dir)) return dir;

        throw new PostgresClusterException(
            $"PostgreSQL server binaries (initdb, pg_ctl) not found: looked in $WIRETY_PG_BIN (unset), {debianRoot}/*/bin and PATH. {InstallHint}");
    }

    static bool HasServerTools(string dir) => IsRealFile(Path.Combine(dir, "initdb")) && IsRealFile(Path.Combine(dir, "pg_ctl"));

    // A symlink whose target is gone (e.g. /usr/local/bin/initdb after the package was removed) does not count.
    static bool IsRealFile(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) return false;
            return info.LinkTarget is null || info.ResolveLinkTarget(returnFinalTarget: true) is { Exists: true };
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    // "15" or "9.6" → comparable version; anything else is not a version dir.
    static Version? ParseVersion(string name)
    {
        var parts = name.Split('.');
        if (parts.Length is < 1 or > 2) return null;
        var nums = new int[2];
        for (var i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out nums[i])) return null;
        return new Version(nums[0], nums[1]);
    }
}
