using System.Net;
using System.Net.Sockets;
using Wirety.Agent.Reconcile;
using Wirety.Agent.WireGuard;
using Wirety.Events.Addressing;
using Wirety.Events.Agent;
using static Wirety.Tests.Agent.TestData;

namespace Wirety.Tests.Agent.Reconcile;

public class ReconcilerTests
{
    private static DesiredState Desired(AgentConfig config) => DesiredState.From(config, Self.PublicKey);

    private static IpPrefix P(string text) => IpPrefix.Parse(text);

    /// <summary>The interface exactly as <paramref name="config"/> wants it.</summary>
    private static InterfaceState Converged(AgentConfig config)
    {
        var d = Desired(config);
        return new InterfaceState(
            new WgDevice(Self.PublicKey, d.ListenPort ?? 40000, 0,
                d.Peers.Select(p => new WgPeer(p.PublicKey, p.Endpoint, p.AllowedIps, null, 0, 0, p.PersistentKeepalive)).ToList()),
            d.Addresses, d.Mtu, true, d.Routes, d.FullTunnelIPv4, d.FullTunnelIPv6);
    }

    [Fact]
    public void a_missing_interface_is_created_configured_and_brought_up_before_peers_and_routes()
    {
        var plan = Reconciler.Plan(Desired(Config()), actual: null);

        Assert.Equal(
            [
                "create interface", "set private key", "set listen port 51820", "set MTU 1420", "add address 198.18.0.5/32",
                "bring interface up",
                $"add peer {JumpKey} allowed 198.18.0.0/24 endpoint 192.0.2.1:51820",
                $"add peer {LaptopKey} allowed 198.18.0.10/32 endpoint 192.0.2.10:51820",
                $"add peer {PhoneKey} allowed 198.18.0.11/32,198.18.7.0/24 endpoint 192.0.2.11:40001",
                "add route 198.18.0.0/24", "add route 198.18.7.0/24",
            ],
            plan.Steps.Select(s => s.Describe()));
    }

    [Fact]
    public void a_converged_interface_yields_an_empty_plan()
    {
        var config = Config();

        Assert.True(Reconciler.Plan(Desired(config), Converged(config)).IsEmpty);
        Assert.True(Reconciler.Plan(Desired(config), Converged(config), previous: Desired(config)).IsEmpty);
    }

    [Fact]
    public void a_config_change_is_planned_as_removes_then_updates_then_adds()
    {
        var before = Config("1", Jump(), Laptop(), Phone());
        // The laptop is gone, the jump gets another prefix, a printer joins.
        var after = Config("2", Jump("198.18.0.0/24", "198.18.9.0/24"), Phone(),
            new AgentPeer(PrinterKey, null, ["198.18.0.12/32"], null));

        var steps = Reconciler.Plan(Desired(after), Converged(before), Desired(before)).Steps;

        Assert.Equal(
            [typeof(RemovePeer), typeof(UpdatePeer), typeof(AddPeer), typeof(AddRoute)],
            steps.Select(s => s.GetType()));
        Assert.Equal(LaptopKey, ((RemovePeer)steps[0]).PublicKey);
        var update = (UpdatePeer)steps[1];
        Assert.Equal(JumpKey, update.Settings.PublicKey);
        Assert.Equal("allowed IPs", update.Reason);
        Assert.Null(update.Settings.Endpoint); // unchanged endpoints are not rewritten
        Assert.Equal([P("198.18.0.0/24"), P("198.18.9.0/24")], update.Settings.AllowedIps);
        Assert.Equal(PrinterKey, ((AddPeer)steps[2]).Settings.PublicKey);
        Assert.Equal(P("198.18.9.0/24"), ((AddRoute)steps[3]).Prefix);
    }

    [Fact]
    public void removes_come_before_updates_and_adds_whatever_the_order_of_peers()
    {
        var before = Config("1", Laptop(), Jump(), Phone());
        var after = Config("2", new AgentPeer(PrinterKey, null, ["198.18.0.12/32"], null), Phone() with { PersistentKeepalive = 10 }, Jump());

        var kinds = Reconciler.Plan(Desired(after), Converged(before), Desired(before)).Steps.Select(s => s.GetType()).ToList();

        Assert.Equal([typeof(RemovePeer), typeof(UpdatePeer), typeof(AddPeer)], kinds);
    }

    [Fact]
    public void manual_drift_is_planned_back_to_the_config()
    {
        var config = Config();
        var converged = Converged(config);
        var stranger = KeyPair();
        var drifted = converged with
        {
            Device = converged.Device with
            {
                ListenPort = 12345,
                Peers =
                [
                    converged.Device.Peers[0] with { AllowedIps = [P("198.19.200.0/24")] }, // wg set ... allowed-ips
                    // laptop removed: wg set ... peer LAPTOP remove
                    converged.Device.Peers[2] with { PersistentKeepalive = 0 },
                    new WgPeer(stranger, "192.0.2.99:1", [P("198.18.0.99/32")], null, 0, 0, 0), // someone added a peer
                ],
            },
            Routes = [P("198.18.0.0/24"), P("198.18.66.0/24")], // 198.18.7.0/24 deleted, a stale one added
            IsUp = false,
        };

        var steps = Reconciler.Plan(Desired(config), drifted, Desired(config)).Steps.Select(s => s.Describe()).ToList();

        Assert.Equal(
            [
                "set listen port 51820", "bring interface up",
                $"remove peer {stranger}",
                $"update peer {JumpKey} (allowed IPs)",
                $"update peer {PhoneKey} (keepalive)",
                $"add peer {LaptopKey} allowed 198.18.0.10/32 endpoint 192.0.2.10:51820",
                "remove route 198.18.66.0/24", "add route 198.18.7.0/24",
            ],
            steps);
    }

    [Fact]
    public void a_foreign_private_key_is_replaced()
    {
        var config = Config();
        var actual = Converged(config);
        actual = actual with { Device = actual.Device with { PublicKey = KeyPair() } };

        Assert.Equal(["set private key"], Reconciler.Plan(Desired(config), actual).Steps.Select(s => s.Describe()));
    }

    [Fact]
    public void stale_addresses_are_removed_and_missing_ones_added()
    {
        var config = Config();
        var actual = Converged(config) with { Addresses = [new InterfaceAddress(IPAddress.Parse("198.18.0.77"), 32)] };

        Assert.Equal(["remove address 198.18.0.77/32", "add address 198.18.0.5/32"],
            Reconciler.Plan(Desired(config), actual).Steps.Select(s => s.Describe()));
    }

    [Fact]
    public void a_roamed_endpoint_is_left_alone_but_an_endpoint_the_server_changed_is_written()
    {
        var config = Config();
        var converged = Converged(config);
        var roamed = converged with
        {
            Device = converged.Device with
            {
                Peers = [.. converged.Device.Peers.Select(p => p.PublicKey == LaptopKey ? p with { Endpoint = "192.0.2.200:61000" } : p)],
            },
        };

        // Same config as last pass: the laptop moved (NAT rebinding); WireGuard follows it by itself.
        Assert.True(Reconciler.Plan(Desired(config), roamed, previous: Desired(config)).IsEmpty);

        // The server now says the laptop is somewhere else: that is written.
        var moved = Config("2", Jump(), Laptop("192.0.2.20:51820"), Phone());
        var step = Assert.IsType<UpdatePeer>(Assert.Single(Reconciler.Plan(Desired(moved), roamed, previous: Desired(config)).Steps));
        Assert.Equal("192.0.2.20:51820", step.Settings.Endpoint);
        Assert.Equal("endpoint", step.Reason);
    }

    [Fact]
    public void a_peer_without_an_endpoint_gets_the_configured_one()
    {
        var config = Config();
        var converged = Converged(config);
        var noEndpoint = converged with
        {
            Device = converged.Device with { Peers = [.. converged.Device.Peers.Select(p => p with { Endpoint = p.PublicKey == JumpKey ? null : p.Endpoint })] },
        };

        var step = Assert.IsType<UpdatePeer>(Assert.Single(Reconciler.Plan(Desired(config), noEndpoint, Desired(config)).Steps));
        Assert.Equal("192.0.2.1:51820", step.Settings.Endpoint);
    }

    [Fact]
    public void an_endpoint_learned_for_a_peer_the_config_gives_none_is_kept()
    {
        // A jump lists dynamic peers without endpoints and learns them from their handshakes.
        var config = new AgentConfig("1", "jump", new AgentInterface("198.18.0.1/32", 51820, null, []),
            [new AgentPeer(LaptopKey, null, ["198.18.0.10/32"], null)], new AgentForwarding([]));
        var converged = Converged(config);
        var learned = converged with { Device = converged.Device with { Peers = [converged.Device.Peers[0] with { Endpoint = "192.0.2.10:40000" }] } };

        Assert.True(Reconciler.Plan(Desired(config), learned, Desired(config)).IsEmpty);
    }

    [Fact]
    public void routes_skip_the_own_address_the_default_route_and_covered_prefixes()
    {
        var config = Config("1",
            new AgentPeer(JumpKey, "192.0.2.1:51820", ["0.0.0.0/0", "::/0"], 25),
            new AgentPeer(LaptopKey, "192.0.2.10:51820", ["198.18.0.10/32", "198.18.0.5/32"], 25), // own address: a server mistake
            new AgentPeer(PhoneKey, "192.0.2.11:51820", ["198.18.4.0/22", "198.18.5.0/24"], 25));

        var desired = Desired(config);

        Assert.Equal([P("198.18.0.10/32"), P("198.18.4.0/22")], desired.Routes);
        Assert.True(desired.FullTunnelIPv4);
        Assert.True(desired.FullTunnelIPv6);
        var plan = Reconciler.Plan(desired, null).Steps;
        Assert.DoesNotContain(plan, s => s is AddRoute r && r.Prefix.IsDefault);
        Assert.Equal(
            [new SetFullTunnel(AddressFamily.InterNetwork, true), new SetFullTunnel(AddressFamily.InterNetworkV6, true)],
            plan.OfType<SetFullTunnel>());
        Assert.IsType<SetFullTunnel>(plan[^1]); // after the peer that carries it
    }

    [Fact]
    public void full_tunnel_routing_is_removed_when_the_config_stops_asking_for_it()
    {
        var config = Config();
        var actual = Converged(config) with { FullTunnelIPv4 = true };

        Assert.Equal([new SetFullTunnel(AddressFamily.InterNetwork, false)], Reconciler.Plan(Desired(config), actual).Steps);
    }

    [Fact]
    public void a_jump_config_never_takes_over_the_hosts_default_route()
    {
        var config = new AgentConfig("1", "jump", new AgentInterface("198.18.0.1/32", 51820, null, []),
            [new AgentPeer(LaptopKey, null, ["0.0.0.0/0"], null)], new AgentForwarding([]));

        var desired = Desired(config);

        Assert.False(desired.FullTunnelIPv4);
        Assert.Contains(desired.Warnings, w => w.Contains("default route", StringComparison.Ordinal));
    }

    [Fact]
    public void prefixes_are_compared_as_sets_of_networks_not_as_text()
    {
        var config = Config("1", new AgentPeer(JumpKey, "192.0.2.1:51820", ["198.18.0.7/24", "198.18.9.0/24"], 25));
        var actual = Converged(config);
        actual = actual with
        {
            Device = actual.Device with { Peers = [actual.Device.Peers[0] with { AllowedIps = [P("198.18.9.0/24"), P("198.18.0.0/24")] }] },
        };

        Assert.True(Reconciler.Plan(Desired(config), actual, Desired(config)).IsEmpty);
    }

    [Fact]
    public void the_endpoint_decision_follows_roaming_rules()
    {
        var peer = new DesiredPeer(LaptopKey, "192.0.2.10:51820", [], 0);
        var same = new Dictionary<string, DesiredPeer> { [LaptopKey] = peer };
        var changed = new Dictionary<string, DesiredPeer> { [LaptopKey] = peer with { Endpoint = "192.0.2.9:51820" } };

        Assert.False(Reconciler.EndpointNeedsSet(peer with { Endpoint = null }, "192.0.2.1:1", same));
        Assert.True(Reconciler.EndpointNeedsSet(peer, null, same));
        Assert.False(Reconciler.EndpointNeedsSet(peer, "192.0.2.10:51820", changed));
        Assert.False(Reconciler.EndpointNeedsSet(peer, "192.0.2.77:4000", same));
        Assert.True(Reconciler.EndpointNeedsSet(peer, "192.0.2.77:4000", changed));
        Assert.True(Reconciler.EndpointNeedsSet(peer, "192.0.2.77:4000", previous: null));
    }

    private static string KeyPair() => Wirety.Agent.Identity.KeyPair.Generate().PublicKey;
}
