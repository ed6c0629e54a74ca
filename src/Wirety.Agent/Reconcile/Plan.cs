using System.Net;
using System.Net.Sockets;
using Wirety.Agent.WireGuard;
using Wirety.Events.Addressing;

namespace Wirety.Agent.Reconcile;

/// <summary>One change to the interface. Steps carry no secret (the private key comes from the identity at apply time), so plans can be logged.</summary>
public abstract record PlanStep
{
    public abstract string Describe();
    public override string ToString() => Describe();
}

public sealed record CreateInterface : PlanStep { public override string Describe() => "create interface"; }

public sealed record SetPrivateKey : PlanStep { public override string Describe() => "set private key"; }

public sealed record SetListenPort(int Port) : PlanStep { public override string Describe() => $"set listen port {Port}"; }

public sealed record SetMtu(int Mtu) : PlanStep { public override string Describe() => $"set MTU {Mtu}"; }

public sealed record AddAddress(InterfaceAddress Address) : PlanStep { public override string Describe() => $"add address {Address}"; }

public sealed record RemoveAddress(InterfaceAddress Address) : PlanStep { public override string Describe() => $"remove address {Address}"; }

public sealed record BringUp : PlanStep { public override string Describe() => "bring interface up"; }

public sealed record RemovePeer(string PublicKey) : PlanStep { public override string Describe() => $"remove peer {PublicKey}"; }

public sealed record UpdatePeer(PeerSettings Settings, string Reason) : PlanStep
{
    public override string Describe() => $"update peer {Settings.PublicKey} ({Reason})";
}

public sealed record AddPeer(PeerSettings Settings) : PlanStep
{
    public override string Describe() =>
        $"add peer {Settings.PublicKey} allowed {string.Join(',', Settings.AllowedIps.Select(p => p.ToString()))}" +
        (Settings.Endpoint is null ? "" : $" endpoint {Settings.Endpoint}");
}

public sealed record RemoveRoute(IpPrefix Prefix) : PlanStep { public override string Describe() => $"remove route {Prefix.ToString()}"; }

public sealed record AddRoute(IpPrefix Prefix) : PlanStep { public override string Describe() => $"add route {Prefix.ToString()}"; }

public sealed record AddServerRoute(IpPrefix Server) : PlanStep
{
    public override string Describe() => $"route the server {Server.ToString()} outside the tunnel";
}

public sealed record RemoveServerRoute(IpPrefix Server) : PlanStep
{
    public override string Describe() => $"remove the route to the server {Server.ToString()} outside the tunnel";
}

public sealed record SetFullTunnel(AddressFamily Family, bool Enabled) : PlanStep
{
    public override string Describe() =>
        $"{(Enabled ? "route" : "stop routing")} all {(Family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} traffic through the tunnel";
}

/// <summary>An ordered list of steps; empty when the interface already matches.</summary>
public sealed record Plan(IReadOnlyList<PlanStep> Steps)
{
    public bool IsEmpty => Steps.Count == 0;
}
