using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Npgsql;

namespace Wirety.Testing;

/// <summary>Settings for a cluster started with <see cref="PostgresCluster.StartNewAsync"/>.</summary>
public sealed record PostgresClusterOptions
{
    /// <summary>
    /// false (default): fsync, synchronous_commit and full_page_writes are off. A throwaway
    /// cluster loses nothing it cares about on a machine crash, and tests run much faster.
    /// true: PostgreSQL's durable defaults, for benchmarks that must pay the real commit cost.
    /// </summary>
    public bool Durable { get; init; }

    public int MaxConnections { get; init; } = 300;

    /// <summary>Extra postgresql.conf settings (name → value, unquoted).</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    /// <summary>Limit for each initdb/pg_ctl call.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(90);
}

/// <summary>Thrown when the cluster cannot be set up; the message carries the tool output and the server log tail.</summary>
public sealed class PostgresClusterException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A private, throwaway PostgreSQL cluster: its own temp dir, a free 127.0.0.1 port, trust
/// auth for user postgres. PostgreSQL refuses to run as root, so as root every server-side
/// command runs as the <c>postgres</c> user via <c>runuser</c>.
/// Cleanup is layered because test hosts do not always exit politely: on ProcessExit the
/// postmaster gets SIGQUIT (what <c>pg_ctl stop -m immediate</c> sends) and the dir is deleted;
/// a small watchdog process does the same if this process dies without ProcessExit
/// (SIGKILL, crash); and leftovers of dead owners are reaped when the next cluster starts.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable, IDisposable
{
    const string DirPrefix = "wirety-pg-";
    const string OwnerFileName = "owner";
    const string PgUser = "postgres";
    const int SIGKILL = 9, SIGQUIT = 3;

    static readonly Lazy<Task<PostgresCluster>> s_shared =
        new(() => StartCoreAsync(new PostgresClusterOptions(), shared: true), LazyThreadSafetyMode.ExecutionAndPublication);

    readonly SemaphoreSlim _ddlLock = new(1, 1);
    readonly TimeSpan _timeout;
    // With fsync off, FILE_COPY's checkpoints cost nothing and it beats the WAL_LOG default
    // (which writes the whole template to WAL): 1.4-2x faster per database here.
    readonly string _createDbSuffix;
    int _stopped;

    PostgresCluster(string binDir, string rootDir, bool runAsPostgres, bool shared, PostgresClusterOptions options)
    {
        _timeout = options.CommandTimeout;
        _createDbSuffix = options.Durable ? "" : " STRATEGY = FILE_COPY";
        BinDir = binDir;
        RootDir = rootDir;
        RunAsPostgres = runAsPostgres;
        IsShared = shared;
    }

    /// <summary>One cluster per process, started on first use (thread-safe) and removed at process exit.</summary>
    public static Task<PostgresCluster> SharedAsync() => s_shared.Value;

    /// <summary>A separate cluster owned by the caller (dispose it), e.g. for a benchmark with <see cref="PostgresClusterOptions.Durable"/>.</summary>
    public static Task<PostgresCluster> StartNewAsync(PostgresClusterOptions? options = null) =>
        StartCoreAsync(options ?? new PostgresClusterOptions(), shared: false);

    public string BinDir { get; }
    /// <summary>The temp dir that holds everything: data/, the unix socket, postgres.log.</summary>
    public string RootDir { get; }
    public string DataDir => Path.Combine(RootDir, "data");
    public string LogFile => Path.Combine(RootDir, "postgres.log");
    public string Host => "127.0.0.1";
    public int Port { get; private set; }
    public bool IsShared { get; }
    bool RunAsPostgres { get; }

    /// <summary>Superuser connection to the <c>postgres</c> database.</summary>
    public string AdminConnectionString => ConnectionString("postgres", pooling: false);

    /// <summary>Connection string for <paramref name="database"/> on this cluster, as superuser postgres.</summary>
    public string ConnectionString(string database, bool pooling = true, int maxPoolSize = 100)
    {
        var b = new NpgsqlConnectionStringBuilder
        {
            Host = Host,
            Port = Port,
            Username = PgUser,
            Database = database,
            Pooling = pooling,
            IncludeErrorDetail = true,
        };
        if (pooling) b.MaxPoolSize = maxPoolSize;
        return b.ConnectionString;
    }

    /// <summary>
    /// Drops <paramref name="name"/> if it exists (disconnecting its sessions), creates it
    /// empty, and returns a pooled connection string (Maximum Pool Size=100) for it.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (Encoding.UTF8.GetByteCount(name) > 63)
            throw new ArgumentException($"database name '{name}' is longer than PostgreSQL's 63 bytes", nameof(name));
        if (Volatile.Read(ref _stopped) != 0)
            throw new ObjectDisposedException(nameof(PostgresCluster));

        var quoted = "\"" + name.Replace("\"", "\"\"") + "\"";
        var result = ConnectionString(name);

        // CREATE DATABASE copies template1 and fails while another CREATE DATABASE holds it
        // (55006); serialize here and retry briefly for other processes using this cluster.
        await _ddlLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await using var conn = new NpgsqlConnection(AdminConnectionString);
                    await conn.OpenAsync(cancellationToken).ConfigureAwait(false);
                    await ExecAsync(conn, $"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)", cancellationToken).ConfigureAwait(false);
                    // Pooled connections to the dropped database are dead now; don't hand them out.
                    using (var stale = new NpgsqlConnection(result)) NpgsqlConnection.ClearPool(stale);
                    await ExecAsync(conn, $"CREATE DATABASE {quoted}{_createDbSuffix}", cancellationToken).ConfigureAwait(false);
                    return result;
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ObjectInUse && attempt < 20)
                {
                    await Task.Delay(50 * attempt, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is NpgsqlException or SocketException)
                {
                    throw new PostgresClusterException(
                        $"creating database {quoted} on {Host}:{Port} failed: {e.Message}{LogTail()}", e);
                }
            }
        }
        finally
        {
            _ddlLock.Release();
        }
    }

    static async Task ExecAsync(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- start

    static async Task<PostgresCluster> StartCoreAsync(PostgresClusterOptions options, bool shared)
    {
        var binDir = PostgresBinaries.Locate();
        var root = Environment.IsPrivilegedProcess;
        if (root)
        {
            if (ProcessRunner.FindExecutable("runuser") is null)
                throw new PostgresClusterException(
                    "running as root, PostgreSQL must run as user postgres, but 'runuser' was not found; install util-linux or run the tests as a normal user");
            var id = await ProcessRunner.RunAsync("id", ["-u", PgUser], null, TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            if (id.ExitCode != 0)
                throw new PostgresClusterException(
                    "running as root, PostgreSQL must run as user postgres, but there is no such user; install it with `apt-get install -y postgresql` (which creates it) or run the tests as a normal user");
        }

        ReapOrphans();

        var dir = Directory.CreateTempSubdirectory(DirPrefix).FullName;
        // Written first, so that a dir left by a crash can always be traced to its (dead) owner.
        await File.WriteAllTextAsync(Path.Combine(dir, OwnerFileName),
            $"{Environment.ProcessId} {ProcessStartTime(Environment.ProcessId)}\n").ConfigureAwait(false);

        var cluster = new PostgresCluster(binDir, dir, root, shared, options);
        try
        {
            await cluster.InitAsync(options).ConfigureAwait(false);
            AppDomain.CurrentDomain.ProcessExit += (_, _) => cluster.StopOnExit();
            cluster.StartWatchdog();
            await cluster.StartServerAsync().ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            cluster.StopOnExit();
            throw;
        }
    }

    async Task InitAsync(PostgresClusterOptions options)
    {
        if (RunAsPostgres)
        {
            // CreateTempSubdirectory makes the dir 0700; hand it to postgres, and check that
            // postgres can reach it at all (TMPDIR might be under /root).
            await MustRunAsync("chown", [PgUser + ":", RootDir], asPostgres: false).ConfigureAwait(false);
            var probe = await RunAsync("test", ["-w", RootDir], asPostgres: true).ConfigureAwait(false);
            if (probe.ExitCode != 0)
                throw new PostgresClusterException(
                    $"user postgres cannot write to {RootDir}: a parent dir is not traversable for it. Point TMPDIR at a world-traversable dir such as /tmp.");
        }

        // trust, unlike `make run`'s cluster (scram-sha-256, ops/pg/cluster.sh): this one lives in a fresh 0700
        // temp dir, on a random loopback port, for one test process, and holds only throwaway test data; a
        // password would have to travel in every connection string the tests build and print.
        await MustRunAsync(Path.Combine(BinDir, "initdb"),
            ["-D", DataDir, "-A", "trust", "-U", PgUser, "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"],
            asPostgres: true).ConfigureAwait(false);

        // Settings go into postgresql.conf rather than pg_ctl -o, so no shell quoting is involved.
        // A unix socket path is limited to 107 bytes; with a very long TMPDIR, go TCP-only.
        var socketDir = RootDir.Length + 20 <= 107 ? RootDir : "";
        var settings = new List<KeyValuePair<string, string>>
        {
            new("listen_addresses", Host),
            new("unix_socket_directories", socketDir),
            new("max_connections", options.MaxConnections.ToString(CultureInfo.InvariantCulture)),
        };
        if (!options.Durable)
        {
            settings.Add(new("fsync", "off"));
            settings.Add(new("synchronous_commit", "off"));
            settings.Add(new("full_page_writes", "off"));
        }
        settings.AddRange(options.Settings);

        var conf = new StringBuilder("\n# added by Wirety.Testing.PostgresCluster\n");
        foreach (var (key, value) in settings)
            conf.Append(key).Append(" = '").Append(value.Replace("'", "''")).Append("'\n");
        // Root may append to the postgres-owned file; ownership and mode stay as initdb set them.
        await File.AppendAllTextAsync(Path.Combine(DataDir, "postgresql.conf"), conf.ToString()).ConfigureAwait(false);
    }

    async Task StartServerAsync()
    {
        // A port found free may be taken before postgres binds it (parallel test processes
        // do exactly this), so retry with another port when the bind is what failed.
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var r = await RunAsync(Path.Combine(BinDir, "pg_ctl"),
                ["start", "-w", "-t", "60", "-D", DataDir, "-l", LogFile, "-o", $"-p {port}"],
                asPostgres: true).ConfigureAwait(false);
            if (r.ExitCode == 0)
            {
                Port = port;
                break;
            }

            await RunAsync(Path.Combine(BinDir, "pg_ctl"), ["stop", "-D", DataDir, "-m", "immediate", "-w", "-t", "10"], asPostgres: true)
                .ConfigureAwait(false);
            var log = SafeReadAllText(LogFile);
            var bindFailed = log.Contains("could not bind", StringComparison.Ordinal) ||
                             log.Contains("could not create any TCP/IP sockets", StringComparison.Ordinal);
            if (!bindFailed || attempt >= 5)
                throw new PostgresClusterException(
                    $"pg_ctl start failed (exit {r.ExitCode}) for {DataDir} on port {port}\n{r.Describe()}{LogTail()}");
        }

        // pg_ctl -w only says the server accepts connections; prove it over TCP as clients will.
        try
        {
            await using var conn = new NpgsqlConnection(AdminConnectionString);
            await conn.OpenAsync().ConfigureAwait(false);
            await ExecAsync(conn, "select 1", CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw new PostgresClusterException($"started, but cannot connect to {Host}:{Port}: {e.Message}{LogTail()}", e);
        }
    }

    static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try { return ((IPEndPoint)listener.LocalEndpoint).Port; }
        finally { listener.Stop(); }
    }

    // ---------------------------------------------------------------- outage (fault tests)

    /// <summary>
    /// Stops the server as an operator or a crash would, keeping the data dir: <c>pg_ctl stop -m fast</c>
    /// (sessions are terminated with 57P01, the cluster shuts down cleanly) or, with
    /// <paramref name="immediate"/>, <c>-m immediate</c> (SIGQUIT: no checkpoint, crash recovery on the next
    /// start). <see cref="RestartAsync"/> brings it back on the same port. Not for the shared cluster,
    /// which other tests in the process use.
    /// </summary>
    public async Task StopServerAsync(bool immediate = false)
    {
        if (IsShared) throw new InvalidOperationException("the shared cluster serves other tests: stop a cluster from StartNewAsync");
        await MustRunAsync(Path.Combine(BinDir, "pg_ctl"), ["stop", "-D", DataDir, "-m", immediate ? "immediate" : "fast", "-w", "-t", "60"], asPostgres: true)
            .ConfigureAwait(false);
    }

    /// <summary>Starts a cluster stopped by <see cref="StopServerAsync"/> again, same data dir, same port.</summary>
    public async Task RestartAsync()
    {
        if (IsShared) throw new InvalidOperationException("the shared cluster serves other tests: restart a cluster from StartNewAsync");
        await MustRunAsync(Path.Combine(BinDir, "pg_ctl"), ["start", "-w", "-t", "60", "-D", DataDir, "-l", LogFile, "-o", $"-p {Port}"], asPostgres: true)
            .ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- stop

    /// <summary>Stops a cluster from <see cref="StartNewAsync"/> and deletes its dir. No-op for the shared one.</summary>
    public async ValueTask DisposeAsync()
    {
        if (IsShared || Interlocked.Exchange(ref _stopped, 1) != 0) return;
        var r = await RunAsync(Path.Combine(BinDir, "pg_ctl"), ["stop", "-D", DataDir, "-m", "immediate", "-w", "-t", "30"], asPostgres: true)
            .ConfigureAwait(false);
        if (r.ExitCode != 0) SignalPostmaster(TimeSpan.FromSeconds(5));
        DeleteRootDir();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>
    /// Runs on ProcessExit, where the test host may be killed ~100 ms later: signal the
    /// postmaster directly (immediate shutdown starts at once), then wait and delete.
    /// </summary>
    void StopOnExit()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0) return;
        try
        {
            SignalPostmaster(TimeSpan.FromSeconds(10));
            DeleteRootDir();
        }
        catch
        {
            // Best effort at exit; the watchdog and the next run's reaper catch leftovers.
        }
    }

    void SignalPostmaster(TimeSpan wait) => SignalPostmaster(DataDir, wait);

    static void SignalPostmaster(string dataDir, TimeSpan wait)
    {
        var pid = ReadPostmasterPid(dataDir);
        if (pid <= 0 || !IsAlive(pid)) return;
        _ = Native.kill(pid, SIGQUIT);
        var sw = Stopwatch.StartNew();
        while (IsAlive(pid) && sw.Elapsed < wait) Thread.Sleep(20);
        if (IsAlive(pid)) _ = Native.kill(pid, SIGKILL);
    }

    static int ReadPostmasterPid(string dataDir)
    {
        try
        {
            var first = File.ReadLines(Path.Combine(dataDir, "postmaster.pid")).FirstOrDefault();
            return int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : -1;
        }
        catch (IOException) { return -1; }
        catch (UnauthorizedAccessException) { return -1; }
    }

    // A zombie still "exists" for kill(0), so look at its state too.
    static bool IsAlive(int pid)
    {
        if (Native.kill(pid, 0) != 0 && Marshal.GetLastPInvokeError() != 1 /* EPERM: exists */) return false;
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0];
            return state != "Z" && state != "X";
        }
        catch (IOException) { return false; }
    }

    void DeleteRootDir() => DeleteDir(RootDir);

    static void DeleteDir(string dir)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            try
            {
                if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Thread.Sleep(100); // exiting backends may still be removing files
            }
        }
    }

    /// <summary>
    /// A detached shell that waits for this process to end and then stops the postmaster
    /// and removes the dir. It matters only when ProcessExit never runs (SIGKILL, crash,
    /// a host that kills its test process). Its stdio are pipes to us, not inherited, so it
    /// never keeps a test runner's output open.
    /// </summary>
    void StartWatchdog()
    {
        const string script = """
            # Alive = /proc entry present, not a zombie, same start time (no pid reuse).
            alive() {
              st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
              set -- $st
              [ "$1" != Z ] && [ "$1" != X ] && [ "${20}" = "$OWNER_START" ]
            }
            while alive "$1"; do sleep 1; done
            pidfile="$2/data/postmaster.pid"
            if [ -f "$pidfile" ]; then
              pid=$(head -n 1 "$pidfile")
              kill -QUIT "$pid" 2>/dev/null
              # The postmaster removes its pid file on exit; give it up to 5 s.
              n=0; while [ -f "$pidfile" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n+1)); done
              [ -f "$pidfile" ] && kill -KILL "$pid" 2>/dev/null
            fi
            rm -rf "$2"
            """;
        try
        {
            var psi = new ProcessStartInfo("/bin/sh")
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = "/",
            };
            foreach (var a in new[] { "-c", script, "wirety-pg-watchdog", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), RootDir })
                psi.ArgumentList.Add(a);
            psi.Environment["OWNER_START"] = ProcessStartTime(Environment.ProcessId);
            using var p = Process.Start(psi);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            // No /bin/sh: ProcessExit and the reaper still clean up.
        }
    }

    /// <summary>Stops and deletes clusters whose owning process is gone (best effort).</summary>
    static void ReapOrphans()
    {
        string[] dirs;
        try { dirs = Directory.GetDirectories(Path.GetTempPath(), DirPrefix + "*"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }

        foreach (var dir in dirs)
        {
            try
            {
                var ownerFile = Path.Combine(dir, OwnerFileName);
                if (!File.Exists(ownerFile))
                {
                    // Another process may be between creating the dir and writing the file.
                    if (DateTime.UtcNow - Directory.GetCreationTimeUtc(dir) < TimeSpan.FromHours(1)) continue;
                }
                else
                {
                    var parts = File.ReadAllText(ownerFile).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    if (parts.Length == 2 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out var pid) &&
                        IsAlive(pid) && ProcessStartTime(pid) == parts[1])
                        continue; // owner still running
                }
                SignalPostmaster(Path.Combine(dir, "data"), TimeSpan.FromSeconds(5));
                DeleteDir(dir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // someone else's or already gone
            }
        }
    }

    /// <summary>Field 22 of /proc/PID/stat (start time in clock ticks): with the pid, identifies a process across pid reuse.</summary>
    static string ProcessStartTime(int pid)
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

    // ---------------------------------------------------------------- processes

    Task<ProcessResult> RunAsync(string exe, IReadOnlyList<string> args, bool asPostgres) =>
        ProcessRunner.RunAsync(exe, args, asPostgres && RunAsPostgres ? PgUser : null, _timeout);

    async Task MustRunAsync(string exe, IReadOnlyList<string> args, bool asPostgres)
    {
        var r = await RunAsync(exe, args, asPostgres).ConfigureAwait(false);
        if (r.ExitCode != 0)
            throw new PostgresClusterException($"{Path.GetFileName(exe)} failed (exit {r.ExitCode})\n{r.Describe()}{LogTail()}");
    }

    string LogTail(int lines = 30)
    {
        var text = SafeReadAllText(LogFile);
        if (text.Length == 0) return "";
        var tail = text.Split('\n').TakeLast(lines + 1);
        return $"\n---- last lines of {LogFile} ----\n{string.Join('\n', tail).TrimEnd()}\n----";
    }

    static string SafeReadAllText(string path)
    {
        try { return File.Exists(path) ? File.ReadAllText(path) : ""; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }

    public override string ToString() => $"PostgreSQL at {Host}:{Port} ({RootDir})";

    static class Native
    {
        [DllImport("libc", SetLastError = true)]
        internal static extern int kill(int pid, int sig);
    }
}
