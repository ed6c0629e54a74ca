using System.ComponentModel;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Wirety.Testing;

/// <summary>
/// Sockets inside a named network namespace (<c>ip netns add NAME</c>), for traffic tests without
/// helper processes (no nc or socat needed): a socket stays in the namespace it was created in, so a
/// short-lived thread enters the namespace (setns moves only the calling thread), creates the socket,
/// returns to its own namespace and ends. Connections accepted on a listening socket belong to its namespace too.
/// </summary>
public static class NamespaceSockets
{
    private const int CloneNewNet = 0x40000000;
    private const int OpenReadOnlyCloseOnExec = 0x80000; // O_RDONLY | O_CLOEXEC

    /// <summary>An IPv4 socket in the namespace <paramref name="ns"/>; needs root (CAP_SYS_ADMIN).</summary>
    public static Socket Open(string ns, SocketType type, ProtocolType protocol)
    {
        ArgumentException.ThrowIfNullOrEmpty(ns);
        Socket? socket = null;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            var home = OpenPath("/proc/thread-self/ns/net");
            var target = OpenPath($"/var/run/netns/{ns}");
            try
            {
                if (target < 0 || home < 0) throw new Win32Exception(Marshal.GetLastPInvokeError(), $"cannot open the namespaces of {ns}");
                if (SetNs(target, CloneNewNet) != 0) throw new Win32Exception(Marshal.GetLastPInvokeError(), $"setns into {ns} failed");
                try
                {
                    socket = new Socket(AddressFamily.InterNetwork, type, protocol);
                }
                finally
                {
                    // A thread left in the wrong namespace would be a pool thread's problem later: better to stop here.
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
        return socket ?? throw new InvalidOperationException($"cannot open a socket in {ns}", error);
    }

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static extern int SetNs(int fd, int nstype);

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int OpenFile([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int fd);

    private static int OpenPath(string path) => OpenFile(path, OpenReadOnlyCloseOnExec);
}
