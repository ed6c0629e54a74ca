using System.Globalization;
using System.Net;
using System.Text.Json;
using Wirety.Events.Addressing;

namespace Wirety.Agent.WireGuard;

/// <summary>Parsers for <c>ip -j</c> output (iproute2's JSON mode), kept pure for tests.</summary>
public static class IpJson
{
    public sealed record Link(int Mtu, bool IsUp);

    /// <summary><c>ip -j link show dev IF</c>.</summary>
    public static Link ParseLink(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var link = doc.RootElement.EnumerateArray().FirstOrDefault();
        if (link.ValueKind != JsonValueKind.Object) throw new FormatException("ip link: no interface in the output.");
        var mtu = link.TryGetProperty("mtu", out var m) && m.TryGetInt32(out var v) ? v : 0;
        var up = link.TryGetProperty("flags", out var flags) && flags.ValueKind == JsonValueKind.Array
                 && flags.EnumerateArray().Any(f => f.GetString() == "UP");
        return new Link(mtu, up);
    }

    /// <summary><c>ip -j address show dev IF</c>: global-scope addresses only.</summary>
    public static List<InterfaceAddress> ParseAddresses(string json)
    {
        var result = new List<InterfaceAddress>();
        using var doc = JsonDocument.Parse(json);
        foreach (var link in doc.RootElement.EnumerateArray())
        {
            if (!link.TryGetProperty("addr_info", out var infos)) continue;
            foreach (var info in infos.EnumerateArray())
            {
                if (info.TryGetProperty("scope", out var scope) && scope.GetString() != "global") continue;
                if (!info.TryGetProperty("local", out var local) || !info.TryGetProperty("prefixlen", out var len)) continue;
                if (IPAddress.TryParse(local.GetString(), out var address) && len.TryGetInt32(out var length))
                    result.Add(new InterfaceAddress(address, length));
            }
        }
        return result;
    }

    /// <summary>A route from <c>ip -j route show</c>: its destination and owner protocol.</summary>
    public sealed record Route(IpPrefix Destination, string? Protocol, string? Device, string? Type, string? Gateway = null);

    /// <summary>
    /// <c>ip -j [-4|-6] route show ...</c>. <paramref name="ipv6"/> says how to read "default" and
    /// bare host addresses.
    /// </summary>
    public static List<Route> ParseRoutes(string json, bool ipv6)
    {
        var result = new List<Route>();
        if (string.IsNullOrWhiteSpace(json)) return result;
        using var doc = JsonDocument.Parse(json);
        foreach (var route in doc.RootElement.EnumerateArray())
        {
            var dst = route.TryGetProperty("dst", out var d) ? d.GetString() : null;
            if (dst is null) continue;
            IpPrefix prefix;
            if (dst == "default") prefix = ipv6 ? IpPrefix.AnyIPv6 : IpPrefix.AnyIPv4;
            else if (!IpPrefix.TryNormalize(dst, out prefix)) continue;
            result.Add(new Route(prefix, Str(route, "protocol"), Str(route, "dev"), Str(route, "type"), Str(route, "gateway")));
        }
        return result;
    }

    /// <summary>A policy rule from <c>ip -j [-4|-6] rule show</c>.</summary>
    public sealed record Rule(int Priority, bool Not, string? Fwmark, string? Table, int? SuppressPrefixLength);

    public static List<Rule> ParseRules(string json)
    {
        var result = new List<Rule>();
        if (string.IsNullOrWhiteSpace(json)) return result;
        using var doc = JsonDocument.Parse(json);
        foreach (var rule in doc.RootElement.EnumerateArray())
        {
            var priority = rule.TryGetProperty("priority", out var p) && p.TryGetInt32(out var pv) ? pv : -1;
            int? suppress = null;
            // iproute2 spells it "suppress_prefixlen" in JSON.
            foreach (var name in (string[])["suppress_prefixlen", "suppress_prefixlength"])
                if (rule.TryGetProperty(name, out var s) && s.TryGetInt32(out var sv)) suppress = sv;
            result.Add(new Rule(priority, rule.TryGetProperty("not", out _), Str(rule, "fwmark"), Str(rule, "table"), suppress));
        }
        return result;
    }

    /// <summary>Whether an <c>ip rule</c> fwmark ("0xca76", "0xca76/0xffffffff") is <paramref name="mark"/>.</summary>
    public static bool IsMark(string? text, uint mark)
    {
        if (text is null) return false;
        var value = text.Split('/')[0];
        return value.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? uint.TryParse(value.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var v) && v == mark
            : uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out v) && v == mark;
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
