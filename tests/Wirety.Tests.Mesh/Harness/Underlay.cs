namespace Wirety.Tests.Mesh.Harness;

/// <summary>
/// A machine of the mesh: a network namespace joined to the bridge by a veth pair, with its underlay
/// address and the (machine-wide unique) name of its WireGuard interface.
/// </summary>
public sealed record MeshHost(string Role, string Namespace, string HostVeth, string UnderlayAddress, string WgInterface)
{
    public override string ToString() => $"{Role} ({Namespace}, {UnderlayAddress})";
}

/// <summary>
/// The underlay: a Linux bridge in the root namespace with <see cref="BridgeAddress"/>/24 (where the
/// server listens), and one namespace per host on it. Only 198.18.0.0/24 (benchmarking range) is used;
/// the namespaces have no default route and IPv6 is off on every link, so no packet can leave the machine.
/// </summary>
public sealed class Underlay : IAsyncDisposable
{
    public const string BridgeAddress = "198.18.0.1";
    private const string InnerVeth = "u0";
    private readonly List<string> _createdNamespaces = [];
    private readonly List<string> _createdLinks = [];

    private Underlay(string bridge) => Bridge = bridge;

    public string Bridge { get; }
    public List<MeshHost> Hosts { get; } = [];

    /// <param name="hosts">role, a one-letter tag for its link names, and its underlay address (198.18.0.x).</param>
    public static async Task<Underlay> CreateAsync(RunDirectory run, IEnumerable<(string Role, char Tag, string Address)> hosts)
    {
        var underlay = new Underlay(run.Link("br"));
        try
        {
            await underlay.CreateBridgeAsync();
            foreach (var (role, tag, address) in hosts)
                await underlay.AddHostAsync(new MeshHost(role, run.Namespace(role), run.Link($"v{tag}"), address, run.Link($"w{tag}")));
            return underlay;
        }
        catch
        {
            await underlay.DisposeAsync();
            throw;
        }
    }

    private async Task CreateBridgeAsync()
    {
        // 198.18.0.1 is this test's address: a second bridge holding it (another run of this test
        // that the machine lock did not cover) would make routing ambiguous.
        var taken = await Sh.TryAsync("ip", "-o", "-4", "address", "show", "to", BridgeAddress + "/32");
        if (taken.Stdout.Trim().Length > 0)
            throw new MeshSetupException($"{BridgeAddress} is already assigned in the root namespace, the underlay cannot be built:\n{taken.Stdout}");

        await Sh.MustAsync("ip", "link", "add", Bridge, "type", "bridge");
        _createdLinks.Add(Bridge);
        DisableIpv6(Bridge);
        await Sh.MustAsync("ip", "address", "add", BridgeAddress + "/24", "dev", Bridge);
        await Sh.MustAsync("ip", "link", "set", Bridge, "up");
    }

    private async Task AddHostAsync(MeshHost host)
    {
        await Sh.MustAsync("ip", "netns", "add", host.Namespace);
        _createdNamespaces.Add(host.Namespace);
        // Before any link comes up, so none of them ever gets an IPv6 link-local address.
        await Sh.MustInNamespaceAsync(host.Namespace, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
        await Sh.MustInNamespaceAsync(host.Namespace, "ip", "link", "set", "lo", "up");

        await Sh.MustAsync("ip", "link", "add", host.HostVeth, "type", "veth", "peer", "name", InnerVeth, "netns", host.Namespace);
        _createdLinks.Add(host.HostVeth);
        DisableIpv6(host.HostVeth);
        await Sh.MustAsync("ip", "link", "set", host.HostVeth, "master", Bridge);
        await Sh.MustAsync("ip", "link", "set", host.HostVeth, "up");
        await Sh.MustInNamespaceAsync(host.Namespace, "ip", "address", "add", host.UnderlayAddress + "/24", "dev", InnerVeth);
        await Sh.MustInNamespaceAsync(host.Namespace, "ip", "link", "set", InnerVeth, "up");
        Hosts.Add(host);
    }

    private static void DisableIpv6(string link)
    {
        var path = $"/proc/sys/net/ipv6/conf/{link}/disable_ipv6";
        if (File.Exists(path)) File.WriteAllText(path, "1");
    }

    public MeshHost this[string role] => Hosts.Single(h => h.Role == role);

    /// <summary>
    /// Takes one host off the underlay while the others keep running, as if the machine were wiped:
    /// deletes its WireGuard interface (wireguard-go exits), ends whatever still runs in its namespace,
    /// deletes the namespace (its veth goes with it), the veth's root end and wireguard-go's socket.
    /// Returns what is left of it afterwards (nothing, when all went well).
    /// </summary>
    public async Task<List<string>> RemoveHostAsync(MeshHost host)
    {
        await Sh.InNamespaceAsync(host.Namespace, "ip", "link", "del", "dev", host.WgInterface);
        await EndNamespaceAsync(host.Namespace);
        var socket = $"/var/run/wireguard/{host.WgInterface}.sock";
        if (File.Exists(socket)) File.Delete(socket);
        await Sh.TryAsync("ip", "link", "del", "dev", host.HostVeth);
        Hosts.Remove(host);
        _createdNamespaces.Remove(host.Namespace);
        _createdLinks.Remove(host.HostVeth);

        var left = new List<string>();
        if ((await Sh.TryAsync("ip", "netns", "list")).Stdout.Split('\n').Any(l => l.Split(' ')[0] == host.Namespace)) left.Add($"namespace {host.Namespace}");
        foreach (var link in new[] { host.HostVeth, host.WgInterface })
            if ((await Sh.TryAsync("ip", "link", "show", "dev", link)).ExitCode == 0) left.Add($"link {link}");
        if (File.Exists(socket)) left.Add($"socket {socket}");
        return left;
    }

    /// <summary>Waits ~1 s for what runs in the namespace to exit (wireguard-go, once its TUN device is gone), then kills the rest, and deletes it.</summary>
    private static async Task EndNamespaceAsync(string ns)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var pids = (await Sh.TryAsync("ip", "netns", "pids", ns)).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (pids.Length == 0) break;
            if (attempt >= 10) // ~1 s of grace for daemons that are exiting anyway
                await Sh.TryAsync(["kill", "-KILL", .. pids.Select(p => p.Trim())]);
            await Task.Delay(100);
        }
        await Sh.TryAsync("ip", "netns", "del", ns);
    }

    /// <summary>
    /// Ends everything inside the namespaces (wireguard-go daemons and anything else this run started
    /// there), deletes the WireGuard interfaces' sockets, the namespaces, the veths and the bridge.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var host in Hosts)
            // Deleting the TUN device ends wireguard-go cleanly (it removes its socket then).
            await Sh.InNamespaceAsync(host.Namespace, "ip", "link", "del", "dev", host.WgInterface);
        foreach (var ns in _createdNamespaces) await EndNamespaceAsync(ns);
        foreach (var host in Hosts)
        {
            var socket = $"/var/run/wireguard/{host.WgInterface}.sock";
            if (File.Exists(socket)) File.Delete(socket);
        }
        foreach (var link in Enumerable.Reverse(_createdLinks))
            await Sh.TryAsync("ip", "link", "del", "dev", link); // veths are usually gone with their namespace already
    }
}
