using System.Net;
using System.Text.RegularExpressions;
using Wirety.Events.Addressing;

namespace Wirety.Server.Networks;

/// <summary>Field rules shared by network create and update. Each returns null when the value is fine.</summary>
public static partial class NetworkRules
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}\\z")]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^(?=.{1,253}\z)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\z")]
    private static partial Regex DomainPattern();

    public static string? Name(string? name) => name is not null && NamePattern().IsMatch(name) && name.Trim() == name
        ? null
        : "name is required: 1–64 letters, digits, spaces, '.', '_' or '-', starting with a letter or digit.";

    public static string? Domain(string? domain) => domain is null or "" || DomainPattern().IsMatch(domain)
        ? null
        : $"domain '{domain}' is not a valid DNS name (lowercase labels of letters, digits and '-', separated by dots).";

    public static string? Dns(IReadOnlyList<string>? dns)
    {
        if (dns is null) return null;
        if (dns.Count > 8) return "dns takes at most 8 resolver addresses.";
        var bad = dns.Where(d => !IpAddresses.TryParse(d, out _)).ToList();
        if (bad.Count > 0) return $"dns must list resolver IP addresses; not an IP address: {string.Join(", ", bad.Select(b => $"'{b}'"))}.";
        return dns.Distinct().Count() == dns.Count ? null : "dns lists an address twice.";
    }

    /// <summary>0 means "unset" on update.</summary>
    public static string? Mtu(int? mtu) => mtu is null or 0 or (>= 1280 and <= 9000) ? null : "mtu must be between 1280 and 9000.";

    /// <summary><c>allow</c> or <c>deny</c>, exactly as the API writes them; null (absent) is fine.</summary>
    public static string? DefaultPolicy(string? text) => text is null || TryParseDefaultPolicy(text, out _)
        ? null
        : $"defaultPolicy must be \"allow\" or \"deny\"; got \"{text}\".";

    public static bool TryParseDefaultPolicy(string? text, out Wirety.Events.Segmentation.DefaultPolicy policy)
    {
        policy = text == "deny" ? Wirety.Events.Segmentation.DefaultPolicy.Deny : Wirety.Events.Segmentation.DefaultPolicy.Allow;
        return text is "allow" or "deny";
    }

    /// <summary>Canonical form of DNS resolver addresses, so equal inputs give equal configs.</summary>
    public static IReadOnlyList<string> CanonicalDns(IReadOnlyList<string>? dns) =>
        dns?.Select(d => IPAddress.Parse(d).ToString()).ToArray() ?? [];
}
