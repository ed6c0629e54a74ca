using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;

namespace Wirety.Tests.Mesh.Harness;

/// <summary>
/// One test run's names and scratch directory. Everything the run creates carries its random suffix:
/// namespaces <c>wirety-e2e-SUFFIX-ROLE</c>, root-namespace links and WireGuard interfaces
/// <c>we2eSUFFIX…</c> (wireguard-go's control socket, /var/run/wireguard/IF.sock, is not per namespace,
/// so interface names must be unique machine-wide). The directory holds the owner (pid + start time)
/// and the child processes started, so the next run can tell leftovers of a crashed run from a live one.
/// </summary>
public sealed class RunDirectory : IDisposable
{
    public const string NamespacePrefix = "wirety-e2e-";
    public const string LinkPrefix = "we2e";
    private const string DirPrefix = "wirety-e2e-";
    private const int SuffixLength = 6;
    private readonly Lock _gate = new();

    private RunDirectory(string suffix, string path)
    {
        Suffix = suffix;
        Path = path;
    }

    public string Suffix { get; }
    public string Path { get; }

    public string Namespace(string role) => $"{NamespacePrefix}{Suffix}-{role}";
    /// <summary>A root-namespace link or WireGuard interface name (at most 15 characters).</summary>
    public string Link(string tag) => LinkPrefix + Suffix + tag;

    public static RunDirectory Create()
    {
        var suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(SuffixLength / 2));
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), DirPrefix + suffix);
        Directory.CreateDirectory(path);
        // Written before anything else exists, so every leftover can be traced to a (dead) owner.
        File.WriteAllText(System.IO.Path.Combine(path, "owner"), $"{Environment.ProcessId} {StartTime(Environment.ProcessId)}\n");
        return new RunDirectory(suffix, path);
    }

    public string SubDirectory(string name)
    {
        var dir = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(dir);
        return dir;
    }

    public void RecordProcess(string name, int pid)
    {
        lock (_gate)
            File.AppendAllText(System.IO.Path.Combine(Path, "processes"), $"{pid} {StartTime(pid)} {name.Replace(' ', '_')}\n");
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    // ---------------------------------------------------------------- leftovers of crashed runs

    /// <summary>
    /// Removes what runs whose owner is gone left behind: their processes (recorded ones and anything
    /// still inside their namespaces, e.g. wireguard-go), namespaces, links, wireguard-go sockets and
    /// directories. A live run's things are left alone. Returns what was removed, for the test log.
    /// </summary>
    public static async Task<List<string>> ReapStaleAsync()
    {
        var removed = new List<string>();
        var live = new HashSet<string>(StringComparer.Ordinal);
        var staleDirs = new List<string>();
        foreach (var dir in Directory.GetDirectories(System.IO.Path.GetTempPath(), DirPrefix + "*"))
        {
            var suffix = System.IO.Path.GetFileName(dir)[DirPrefix.Length..];
            if (OwnerAlive(dir)) live.Add(suffix);
            else staleDirs.Add(dir);
        }

        foreach (var dir in staleDirs)
            foreach (var (pid, name) in RecordedProcesses(dir))
            {
                KillPid(pid);
                removed.Add($"process {pid} ({name})");
            }

        var namespaces = (await Sh.TryAsync("ip", "netns", "list")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ')[0]).Where(n => n.StartsWith(NamespacePrefix, StringComparison.Ordinal));
        foreach (var ns in namespaces)
        {
            if (live.Contains(SuffixOf(ns[NamespacePrefix.Length..]))) continue;
            foreach (var pid in (await Sh.TryAsync("ip", "netns", "pids", ns)).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                if (int.TryParse(pid.Trim(), CultureInfo.InvariantCulture, out var p))
                {
                    KillPid(p);
                    removed.Add($"process {p} in namespace {ns}");
                }
            await Sh.TryAsync("ip", "netns", "del", ns);
            removed.Add($"namespace {ns}");
        }

        var links = (await Sh.TryAsync("ip", "-o", "link", "show")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(':', 3) is [_, var name, _] ? name.Trim().Split('@')[0] : "")
            .Where(n => n.StartsWith(LinkPrefix, StringComparison.Ordinal));
        foreach (var link in links)
        {
            if (live.Contains(SuffixOf(link[LinkPrefix.Length..]))) continue;
            await Sh.TryAsync("ip", "link", "del", "dev", link);
            removed.Add($"link {link}");
        }

        if (Directory.Exists("/var/run/wireguard"))
            foreach (var socket in Directory.GetFiles("/var/run/wireguard", LinkPrefix + "*.sock"))
            {
                if (live.Contains(SuffixOf(System.IO.Path.GetFileName(socket)[LinkPrefix.Length..]))) continue;
                File.Delete(socket);
                removed.Add($"socket {socket}");
            }

        foreach (var dir in staleDirs)
        {
            try { Directory.Delete(dir, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            removed.Add($"directory {dir}");
        }
        return removed;
    }

    private static string SuffixOf(string rest) => rest.Length >= SuffixLength ? rest[..SuffixLength] : rest;

    private static bool OwnerAlive(string dir)
    {
        try
        {
            var owner = System.IO.Path.Combine(dir, "owner");
            // A directory without an owner file is either being created right now or a very old leftover.
            if (!File.Exists(owner)) return DateTime.UtcNow - Directory.GetCreationTimeUtc(dir) < TimeSpan.FromMinutes(1);
            var parts = File.ReadAllText(owner).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return parts.Length == 2 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out var pid) && StartTime(pid) == parts[1];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Recorded children that are still the same process (pid and start time match).</summary>
    private static IEnumerable<(int Pid, string Name)> RecordedProcesses(string dir)
    {
        var file = System.IO.Path.Combine(dir, "processes");
        if (!File.Exists(file)) yield break;
        foreach (var line in File.ReadAllLines(file))
        {
            var parts = line.Split(' ', 3);
            if (parts.Length == 3 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out var pid) && StartTime(pid) == parts[1])
                yield return (pid, parts[2]);
        }
    }

    private static void KillPid(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            p.Kill();
            p.WaitForExit(5000);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception) { }
    }

    /// <summary>Field 22 of /proc/PID/stat: with the pid it identifies a process across pid reuse.</summary>
    private static string StartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields.Length > 19 ? fields[19] : "?";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "gone";
        }
    }
}
