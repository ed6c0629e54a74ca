using System.ComponentModel;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Wirety.Agent.WireGuard;
using Xunit.Abstractions;

namespace Wirety.Tests.Agent.RealWireGuard;

/// <summary>
/// A throwaway network namespace for tests against real WireGuard (wireguard-go). Interface names
/// are unique per test run, since wireguard-go's control socket (/var/run/wireguard/NAME.sock) is
/// not per namespace. Disposal removes the interfaces, any wireguard-go daemon the test started
/// (found by its exact command line, which carries the unique name) and the namespace, also when
/// the test failed halfway.
/// </summary>
public sealed class Netns : IAsyncDisposable
{
    private readonly List<string> _interfaces = [];
    private readonly ITestOutputHelper? _output;

    private Netns(string name, ITestOutputHelper? output)
    {
        Name = name;
        _output = output;
        Runner = new ProcessCommandRunner(["ip", "netns", "exec", name]);
    }

    public string Name { get; }

    /// <summary>Runs commands inside the namespace: what <see cref="WgCommandLine"/> gets as its runner.</summary>
    public ProcessCommandRunner Runner { get; }

    /// <summary>Fails the test (never skips it) with what is missing and how to install it.</summary>
    public static void RequirePrerequisites(params string[] tools)
    {
        var missing = new List<string>();
        if (!Environment.IsPrivilegedProcess) missing.Add("root (network namespaces and TUN devices need it)");
        if (!File.Exists("/dev/net/tun")) missing.Add("/dev/net/tun");
        foreach (var tool in new[] { "ip", "wg", "wireguard-go" }.Concat(tools).Distinct())
            if (ProcessCommandRunner.Find(tool) is null) missing.Add(tool);
        Assert.True(missing.Count == 0,
            "real WireGuard test prerequisites missing: " + string.Join(", ", missing) +
            ". Install them with: ops/install-prereqs.sh --wireguard --network (wireguard-go, wireguard-tools, nftables, iptables, iproute2, iputils-ping) and run as root.");
    }

    public static string UniqueName(string prefix) => prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

    public static async Task<Netns> CreateAsync(ITestOutputHelper? output = null)
    {
        var ns = new Netns(UniqueName("wirety-t-"), output);
        await Host(output, "ip", "netns", "add", ns.Name);
        await ns.RunAsync("ip", "link", "set", "lo", "up");
        return ns;
    }

    /// <summary>Registers an interface for cleanup and returns its (unique) name.</summary>
    public string NewInterfaceName()
    {
        var name = UniqueName("wt");
        _interfaces.Add(name);
        return name;
    }

    /// <summary>Runs a command inside the namespace; fails the test if it fails.</summary>
    public async Task<string> RunAsync(params string[] argv)
    {
        var result = await TryRunAsync(argv);
        Assert.True(result.Succeeded, $"{result.CommandLine} failed ({result.ExitCode}): {result.Stderr}");
        return result.Stdout;
    }

    public async Task<CommandResult> TryRunAsync(params string[] argv)
    {
        var result = await Runner.RunAsync(argv[0], argv[1..], null, default);
        // `wg show IF dump` starts with the interface's private key: even a throwaway key stays out of test logs.
        var shown = argv.Contains("dump") && result.Stdout.Split('\t', 2) is [_, var rest] ? "(private key)\t" + rest : result.Stdout;
        _output?.WriteLine($"$ {result.CommandLine}  (exit {result.ExitCode})\n{Indent(shown)}{Indent(result.Stderr)}");
        return result;
    }

    /// <summary>Runs a command in the host namespace (creating namespaces and veth pairs).</summary>
    public static async Task<string> Host(ITestOutputHelper? output, params string[] argv)
    {
        var result = await new ProcessCommandRunner().RunAsync(argv[0], argv[1..], null, default);
        output?.WriteLine($"$ {result.CommandLine}  (exit {result.ExitCode})\n{Indent(result.Stderr)}");
        Assert.True(result.Succeeded, $"{result.CommandLine} failed ({result.ExitCode}): {result.Stderr}");
        return result.Stdout;
    }

    /// <summary>
    /// An IPv4 socket that lives in this namespace, for traffic tests without helper processes: a
    /// socket stays in the namespace it was created in, so a short-lived thread enters the namespace
    /// (setns only moves the calling thread), creates it, and returns before it ends.
    /// </summary>
    public Socket OpenSocket(SocketType type, ProtocolType protocol)
    {
        Socket? socket = null;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            var home = Open("/proc/thread-self/ns/net");
            var target = Open($"/var/run/netns/{Name}");
            try
            {
                if (target < 0 || home < 0) throw new Win32Exception(Marshal.GetLastPInvokeError(), $"cannot open the namespaces of {Name}");
                if (SetNs(target, CloneNewNet) != 0) throw new Win32Exception(Marshal.GetLastPInvokeError(), $"setns into {Name} failed");
                try
                {
                    socket = new Socket(AddressFamily.InterNetwork, type, protocol);
                }
                finally
                {
                    if (SetNs(home, CloneNewNet) != 0) Environment.FailFast("a test thread could not return to its network namespace");
                }
            }
            catch (Exception e)
            {
                error = e;
            }
            finally
            {
                if (home >= 0) Close(home);
                if (target >= 0) Close(target);
            }
        });
        thread.Start();
        thread.Join();
        return socket ?? throw new InvalidOperationException($"cannot open a socket in {Name}", error);
    }

    private const int CloneNewNet = 0x40000000;
    private const int OpenReadOnlyCloseOnExec = 0x80000; // O_RDONLY | O_CLOEXEC

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static extern int SetNs(int fd, int nstype);

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int OpenFile([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int fd);

    private static int Open(string path) => OpenFile(path, OpenReadOnlyCloseOnExec);

    /// <summary>PIDs of wireguard-go daemons serving <paramref name="iface"/>.</summary>
    public static List<int> WireGuardGoProcesses(string iface)
    {
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var argv = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0', StringSplitOptions.RemoveEmptyEntries);
                var state = File.ReadAllLines(Path.Combine(dir, "status")).FirstOrDefault(l => l.StartsWith("State:", StringComparison.Ordinal)) ?? "";
                if (argv.Length == 2 && Path.GetFileName(argv[0]) == "wireguard-go" && argv[1] == iface && !state.Contains('Z', StringComparison.Ordinal))
                    pids.Add(pid);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return pids;
    }

    public async ValueTask DisposeAsync()
    {
        var runner = new ProcessCommandRunner();
        foreach (var iface in _interfaces)
        {
            await Runner.RunAsync("ip", ["link", "del", "dev", iface], null, default);
            // Deleting the TUN device ends wireguard-go; a daemon that hangs on is ended by its PID.
            for (var i = 0; i < 20 && WireGuardGoProcesses(iface).Count > 0; i++) await Task.Delay(100);
            foreach (var pid in WireGuardGoProcesses(iface))
            {
                try { System.Diagnostics.Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { }
            }
            var socket = $"/var/run/wireguard/{iface}.sock";
            if (File.Exists(socket)) File.Delete(socket);
        }
        await runner.RunAsync("ip", ["netns", "del", Name], null, default);
    }

    private static string Indent(string text) =>
        text.Length == 0 ? "" : string.Concat(text.TrimEnd().Split('\n').Select(l => "    " + l + "\n"));
}
