using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Xunit.Abstractions;

namespace Wirety.Tests.Operations;

/// <summary>
/// <c>make run</c> (ops/run-local.sh) as a person uses it in a terminal: it starts a private PostgreSQL
/// cluster and the real server, and Ctrl+C — SIGINT to the whole foreground process group — stops both.
/// The server command is the built server (WIRETY_SERVER_CMD), so the test does not rebuild while other
/// test projects run.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class MakeRunTests(ITestOutputHelper output)
{
    private const int SIGINT = 2;

    [Fact]
    public async Task ctrl_c_stops_the_server_and_the_private_cluster_it_started()
    {
        var data = Directory.CreateTempSubdirectory("wirety-make-run-");
        var (pgPort, httpPort) = (FreePort(), FreePort());
        var baseUrl = $"http://127.0.0.1:{httpPort}";
        // setsid: the script leads its own process group, as a shell's foreground job does.
        var psi = new ProcessStartInfo("setsid", ["bash", Path.Combine(RepoRoot(), "ops", "run-local.sh")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepoRoot(),
        };
        psi.Environment.Remove("WIRETY_DB");
        psi.Environment["WIRETY_DATA_DIR"] = data.FullName;
        psi.Environment["WIRETY_PG_PORT"] = $"{pgPort}";
        psi.Environment["WIRETY_URLS"] = baseUrl;
        psi.Environment["WIRETY_SERVER_CMD"] = $"dotnet {Path.Combine(AppContext.BaseDirectory, "wirety-server.dll")}";
        psi.Environment["WIRETY_LOG_FORMAT"] = "text";

        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var script = Process.Start(psi)!;
        script.OutputDataReceived += (_, e) => { if (e.Data is not null) log.Enqueue(e.Data); };
        script.ErrorDataReceived += (_, e) => { if (e.Data is not null) log.Enqueue(e.Data); };
        script.BeginOutputReadLine();
        script.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var ready = await WaitUntilAsync(async () => await StatusAsync(http, $"{baseUrl}/readyz") == HttpStatusCode.OK, TimeSpan.FromSeconds(120));
            Assert.True(ready, $"make run did not become ready:\n{string.Join('\n', log)}");
            await AssertTheClusterWantsItsPasswordAsync(data.FullName, pgPort);
            var postmaster = int.Parse((await File.ReadAllLinesAsync(Path.Combine(data.FullName, "pg", "postmaster.pid")))[0]);
            var group = ProcessGroupMembers(script.Id);
            Assert.True(group.Count >= 2, $"the script and the server run in the script's process group: {string.Join(", ", group)}");

            var clock = Stopwatch.StartNew();
            Assert.Equal(0, kill(-script.Id, SIGINT));
            using (var exited = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
                await script.WaitForExitAsync(exited.Token);
            var stopped = clock.Elapsed;
            Assert.True(await WaitUntilAsync(() => Task.FromResult(!IsRunning(postmaster)), TimeSpan.FromSeconds(30)),
                $"PostgreSQL (pid {postmaster}) still runs after Ctrl+C:\n{string.Join('\n', log)}");
            output.WriteLine($"Ctrl+C: script exited {stopped.TotalMilliseconds:0} ms after SIGINT, cluster gone after {clock.Elapsed.TotalMilliseconds:0} ms (exit status {script.ExitCode})");

            Assert.Empty(ProcessGroupMembers(script.Id));
            Assert.False(File.Exists(Path.Combine(data.FullName, "pg", "postmaster.pid")), "the cluster was shut down cleanly");
            Assert.Null(await StatusAsync(http, $"{baseUrl}/readyz"));
            Assert.Contains(log, l => l.Contains("stopping server", StringComparison.Ordinal));
        }
        finally
        {
            if (!script.HasExited) kill(-script.Id, 9);
            await StopLeftoverClusterAsync(data.FullName);
            data.Delete(recursive: true);
        }
    }

    /// <summary>
    /// The private cluster trusts nobody: without the password a connection is refused, with the generated
    /// 0600 password file (what the server got in WIRETY_DB) it works.
    /// </summary>
    private static async Task AssertTheClusterWantsItsPasswordAsync(string dataDir, int pgPort)
    {
        var passfile = Path.Combine(dataDir, "pg.pgpass");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(passfile));
        var without = $"Host=127.0.0.1;Port={pgPort};Database=wirety;Username=postgres;Pooling=false";
        await using (var refused = new Npgsql.NpgsqlConnection(without))
            await Assert.ThrowsAnyAsync<Npgsql.NpgsqlException>(() => refused.OpenAsync());
        await using (var wrong = new Npgsql.NpgsqlConnection(without + ";Password=postgres"))
            await Assert.ThrowsAnyAsync<Npgsql.NpgsqlException>(() => wrong.OpenAsync());
        await using var allowed = new Npgsql.NpgsqlConnection(without + $";Passfile={passfile}");
        await allowed.OpenAsync();
    }

    private static async Task<HttpStatusCode?> StatusAsync(HttpClient http, string url)
    {
        try { return (await http.GetAsync(url)).StatusCode; }
        catch (HttpRequestException) { return null; }
        catch (TaskCanceledException) { return null; }
    }

    private static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (await condition()) return true;
            await Task.Delay(100);
        }
        return await condition();
    }

    /// <summary>Running (not exited, not a zombie awaiting its reaper) pids whose process group is <paramref name="pgid"/>.</summary>
    private static List<int> ProcessGroupMembers(int pgid) =>
        Directory.EnumerateDirectories("/proc").Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && Stat(pid) is { } fields && fields[0] != "Z" && fields[2] == $"{pgid}").ToList();

    private static bool IsRunning(int pid) => Stat(pid) is { } fields && fields[0] != "Z";

    /// <summary>The fields of /proc/PID/stat after the command name: state, ppid, pgrp, …; null once the pid is gone.</summary>
    private static string[]? Stat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    private static async Task StopLeftoverClusterAsync(string dataDir)
    {
        if (!File.Exists(Path.Combine(dataDir, "pg", "postmaster.pid"))) return;
        using var stop = Process.Start("bash", [Path.Combine(RepoRoot(), "ops", "pg", "cluster.sh"), "stop", Path.Combine(dataDir, "pg")]);
        await stop.WaitForExitAsync();
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Wirety.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Wirety.sln above {AppContext.BaseDirectory}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
