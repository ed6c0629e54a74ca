using Wirety.Testing;

namespace Wirety.Tests.Mesh.Harness;

/// <summary>Thrown when the test environment cannot be built; the message carries the failing command's output.</summary>
public sealed class MeshSetupException(string message) : Exception(message);

/// <summary>Short-lived commands (ip, wg, ping, kill) in the root namespace or inside a network namespace.</summary>
public static class Sh
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static Task<ProcessResult> TryAsync(params string[] argv) =>
        ProcessRunner.RunAsync(ProcessRunner.FindExecutable(argv[0]) ?? argv[0], argv[1..], null, Timeout);

    /// <summary>Runs the command and returns its stdout; throws with the command's output if it fails.</summary>
    public static async Task<string> MustAsync(params string[] argv)
    {
        var result = await TryAsync(argv);
        if (result.ExitCode != 0) throw new MeshSetupException($"command failed (exit {result.ExitCode})\n{result.Describe()}");
        return result.Stdout;
    }

    public static Task<ProcessResult> InNamespaceAsync(string ns, params string[] argv) => TryAsync(["ip", "netns", "exec", ns, .. argv]);

    public static Task<string> MustInNamespaceAsync(string ns, params string[] argv) => MustAsync(["ip", "netns", "exec", ns, .. argv]);
}
