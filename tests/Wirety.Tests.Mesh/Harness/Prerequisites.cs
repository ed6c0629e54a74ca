using Wirety.Testing;

namespace Wirety.Tests.Mesh.Harness;

/// <summary>
/// What the mesh test needs from the machine. A missing piece fails the test with a message that
/// names it and says how to get it; the test never skips or passes without running.
/// </summary>
public static class Prerequisites
{
    public const string InstallCommand = "ops/install-prereqs.sh --wireguard --network";

    public static readonly IReadOnlyList<(string Tool, string Package)> Tools =
    [
        ("ip", "iproute2"), ("wg", "wireguard-tools"), ("wireguard-go", "wireguard-go"), ("ping", "iputils-ping"),
        // The agents enforce policy with nftables when nft is installed; the test reads their table.
        ("nft", "nftables"),
    ];

    /// <returns>Null when everything is there, else the message to fail with.</returns>
    public static string? Problem() =>
        Problem(Environment.IsPrivilegedProcess, File.Exists("/dev/net/tun"), tool => ProcessRunner.FindExecutable(tool) is not null);

    public static string? Problem(bool isRoot, bool hasTun, Func<string, bool> toolExists)
    {
        var problems = new List<string>();
        var missing = Tools.Where(t => !toolExists(t.Tool)).ToList();
        if (missing.Count > 0)
            problems.Add($"missing {string.Join(", ", missing.Select(t => $"{t.Tool} (package {t.Package})"))}: install them with " +
                         $"`{InstallCommand}` from the repository root, or `apt-get install -y {string.Join(' ', missing.Select(t => t.Package).Distinct())}`");
        if (!hasTun) problems.Add("/dev/net/tun is missing (wireguard-go needs a TUN device; in a container, pass --device /dev/net/tun)");
        if (!isRoot) problems.Add("not running as root (network namespaces, veth/bridge links and TUN devices need it): run the tests as root");
        return problems.Count == 0 ? null : "The end-to-end mesh test cannot run on this machine: " + string.Join("; ", problems) + ".";
    }
}
