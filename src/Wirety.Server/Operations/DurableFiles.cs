using System.Runtime.InteropServices;

namespace Wirety.Server.Operations;

/// <summary>
/// Making a written file survive a power cut: its data is fsync'ed before the rename (else the rename can
/// reach the disk before the data, leaving a complete-looking name over an empty or partial file), and the
/// directory is fsync'ed after it, so the rename itself is on disk. .NET cannot open a directory, so on
/// Linux and macOS the directory goes through libc's open/fsync/close; elsewhere it is skipped.
/// </summary>
public static class DurableFiles
{
    /// <summary>fsync of a directory (its entries: creations, renames). False where the OS does not allow it.</summary>
    public static bool FsyncDirectory(string directory)
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())) return false;
        try
        {
            var fd = Open(directory, 0 /* O_RDONLY */);
            if (fd < 0) return false;
            try { return Fsync(fd) == 0; }
            finally { _ = Close(fd); }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
