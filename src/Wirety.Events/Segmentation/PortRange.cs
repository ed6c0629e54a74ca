using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Wirety.Events.Segmentation;

public enum PortProtocol
{
    Tcp,
    Udp,
    Icmp,
}

/// <summary>
/// One protocol and port range of a policy, as text: <c>tcp/22</c>, <c>tcp/8000-8100</c>, <c>udp/53</c>,
/// <c>tcp</c> or <c>udp</c> (every port) and <c>icmp</c>. The canonical text (<see cref="ToString"/>) is
/// what events, configs and agents carry: lower case, a one-port range as one port, a full range as the
/// bare protocol. Shared by the server (validation, evaluation) and the agent (firewall rules).
/// </summary>
public readonly record struct PortRange(PortProtocol Protocol, int From, int To) : IComparable<PortRange>
{
    public const int MaxPort = 65535;

    public static PortRange AllOf(PortProtocol protocol) => protocol == PortProtocol.Icmp
        ? new(PortProtocol.Icmp, 0, 0)
        : new(protocol, 1, MaxPort);

    public bool IsWholeProtocol => Protocol == PortProtocol.Icmp || (From == 1 && To == MaxPort);

    public static bool TryParse(string? text, out PortRange range, [NotNullWhen(false)] out string? error)
    {
        range = default;
        error = null;
        if (string.IsNullOrWhiteSpace(text) || text.Length > 20)
        {
            error = $"'{text}' is not a port rule: use tcp/22, tcp/8000-8100, udp/53, tcp, udp or icmp.";
            return false;
        }
        var slash = text.IndexOf('/');
        var name = slash < 0 ? text : text[..slash];
        PortProtocol protocol;
        switch (name)
        {
            case "tcp": protocol = PortProtocol.Tcp; break;
            case "udp": protocol = PortProtocol.Udp; break;
            case "icmp": protocol = PortProtocol.Icmp; break;
            default:
                error = $"'{text}' is not a port rule: the protocol must be tcp, udp or icmp (lower case).";
                return false;
        }
        if (slash < 0)
        {
            range = AllOf(protocol);
            return true;
        }
        if (protocol == PortProtocol.Icmp)
        {
            error = $"'{text}' is not a port rule: icmp has no ports.";
            return false;
        }
        var ports = text[(slash + 1)..];
        var dash = ports.IndexOf('-');
        if (!TryPort(dash < 0 ? ports : ports[..dash], out var from) || !TryPort(dash < 0 ? ports : ports[(dash + 1)..], out var to))
        {
            error = $"'{text}' is not a port rule: ports are numbers from 1 to {MaxPort}, one (tcp/22) or a range (tcp/8000-8100).";
            return false;
        }
        if (from > to)
        {
            error = $"'{text}' is not a port rule: the range runs backwards.";
            return false;
        }
        range = new PortRange(protocol, from, to);
        return true;
    }

    private static bool TryPort(string text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 1 and <= MaxPort
        && text.Length == port.ToString(CultureInfo.InvariantCulture).Length; // no leading zeros: one spelling per rule

    public override string ToString()
    {
        var name = Protocol switch { PortProtocol.Tcp => "tcp", PortProtocol.Udp => "udp", _ => "icmp" };
        if (IsWholeProtocol) return name;
        return From == To
            ? string.Create(CultureInfo.InvariantCulture, $"{name}/{From}")
            : string.Create(CultureInfo.InvariantCulture, $"{name}/{From}-{To}");
    }

    public int CompareTo(PortRange other) =>
        Protocol != other.Protocol ? Protocol.CompareTo(other.Protocol)
        : From != other.From ? From.CompareTo(other.From)
        : To.CompareTo(other.To);
}
