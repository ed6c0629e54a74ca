using System.Globalization;
using System.Runtime.InteropServices;

namespace Wirety.Tests.Cluster.Harness;

/// <summary>
/// The server processes this test run started, recorded (pid + start time) in a file named after the
/// run, so a later run can end those a crashed run left behind (a SIGKILLed test host cannot clean up).
/// A record is only acted on when its owner is gone and the pid still belongs to the recorded process.
/// </summary>
public sealed class ChildProcesses : IDisposable
{
    private const string Prefix = "wirety-cluster-run-";
    private const int SIGTERM = 15, SIGKILL = 9;
    private readonly Lock _gate = new();
    private readonly string _file;

    private ChildProcesses(string file) => _file = file;

    public static ChildProcesses Create()
    {
        Reap();
        var file = Path.Combine(Path.GetTempPath(), $"{Prefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        File.WriteAllText(file, $"owner {Environment.ProcessId} {StartTime(Environment.ProcessId)}\n");
        return new ChildProcesses(file);
    }

    public void Record(int pid, string name)
    {
        lock (_gate) File.AppendAllText(_file, $"child {pid} {StartTime(pid)} {name}\n");
    }

    /// <summary>SIGTERM, then SIGKILL after <paramref name="grace"/>.</summary>
    public static async Task StopAsync(System.Diagnostics.Process process, TimeSpan grace)
    {
        if (process.HasExited) return;
        _ = kill(process.Id, SIGTERM);
        using var timeout = new CancellationTokenSource(grace);
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    public void Dispose()
    {
        try { File.Delete(_file); }
        catch (IOException) { }
    }

    private static void Reap()
    {
        foreach (var file in Directory.GetFiles(Path.GetTempPath(), Prefix + "*"))
        {
            try
            {
                var lines = File.ReadAllLines(file).Select(l => l.Split(' ', 4)).ToList();
                if (lines.FirstOrDefault(l => l[0] == "owner") is not [_, var ownerPid, var ownerStart, ..]
                    || StartTime(int.Parse(ownerPid, CultureInfo.InvariantCulture)) == ownerStart)
                    continue; // still running (or not ours to judge)
                foreach (var child in lines.Where(l => l.Length >= 3 && l[0] == "child"))
                {
                    var pid = int.Parse(child[1], CultureInfo.InvariantCulture);
                    if (StartTime(pid) == child[2]) _ = kill(pid, SIGKILL);
                }
                File.Delete(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        }
    }

    /// <summary>Field 22 of /proc/PID/stat: with the pid, identifies a process across pid reuse.</summary>
    private static string StartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields.Length > 19 ? fields[19] : "?";
        }
        catch (IOException) { return "gone"; }
        catch (UnauthorizedAccessException) { return "?"; }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
