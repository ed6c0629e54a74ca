using Wirety.Agent.Identity;
using Wirety.Agent.Logging;
using Wirety.Events.Agent;

namespace Wirety.Tests.Agent;

/// <summary>Keys and configs for tests. Addresses come from the documentation/benchmark ranges only.</summary>
public static class TestData
{
    public static readonly KeyPair Self = KeyPair.Generate();
    public static readonly string JumpKey = KeyPair.Generate().PublicKey;
    public static readonly string LaptopKey = KeyPair.Generate().PublicKey;
    public static readonly string PhoneKey = KeyPair.Generate().PublicKey;
    public static readonly string PrinterKey = KeyPair.Generate().PublicKey;

    public static AgentPeer Jump(params string[] allowed) => new(JumpKey, "192.0.2.1:51820", allowed.Length == 0 ? ["198.18.0.0/24"] : allowed, 25);
    public static AgentPeer Laptop(string endpoint = "192.0.2.10:51820") => new(LaptopKey, endpoint, ["198.18.0.10/32"], 25);
    public static AgentPeer Phone() => new(PhoneKey, "192.0.2.11:40001", ["198.18.0.11/32", "198.18.7.0/24"], 25);

    /// <summary>A dynamic peer's config: the jump with the network CIDR plus two direct mesh peers.</summary>
    public static AgentConfig Config(string version = "1", params AgentPeer[] peers) =>
        new(version, "dynamic", new AgentInterface("198.18.0.5/32", 51820, null, []),
            peers.Length == 0 ? [Jump(), Laptop(), Phone()] : peers, null);

    /// <summary>A canonical text of an interface state, for comparing two states as a whole.</summary>
    public static string Describe(Wirety.Agent.WireGuard.InterfaceState? state)
    {
        if (state is null) return "(absent)";
        var d = state.Device;
        var lines = new List<string>
        {
            $"key={d.PublicKey} port={d.ListenPort} fwmark={d.Fwmark} mtu={state.Mtu} up={state.IsUp} full4={state.FullTunnelIPv4} full6={state.FullTunnelIPv6}",
            "addresses=" + string.Join(',', state.Addresses.Select(a => a.ToString()).Order(StringComparer.Ordinal)),
            "routes=" + string.Join(',', state.Routes.Select(p => p.ToString()).Order(StringComparer.Ordinal)),
        };
        lines.AddRange(d.Peers.OrderBy(p => p.PublicKey, StringComparer.Ordinal).Select(p =>
            $"peer {p.PublicKey} endpoint={p.Endpoint} keepalive={p.PersistentKeepalive} allowed=" +
            string.Join(',', p.AllowedIps.Select(p => p.ToString()).Order(StringComparer.Ordinal))));
        return string.Join('\n', lines);
    }

    public static AgentLog Log(StringWriter? sink = null) => new(sink ?? TextWriter.Null, TimeProvider.System, LogLevel.Debug);
}
