using System.Collections.Immutable;
using System.Net;
using Wirety.Events.Addressing;

namespace Wirety.Server.Routes;

/// <summary>
/// The server's own addresses, which no route and no <c>additionalAllowedIps</c> may cover (a peer routing one
/// of them into the tunnel loses the server, and with it its config and the way to fix it). Configured with
/// <c>Wirety:ServerAddresses</c> (env <c>Wirety__ServerAddresses</c>, comma-separated IPs); each admin request
/// adds the local address it arrived on (<see cref="For"/>).
/// </summary>
public sealed class ServerAddresses(ImmutableArray<IPAddress> configured)
{
    public const string Key = "Wirety:ServerAddresses";

    public ImmutableArray<IPAddress> Configured { get; } = configured;

    /// <exception cref="InvalidOperationException">An entry is not an IP address: the server refuses to start.</exception>
    public static ServerAddresses From(IConfiguration config)
    {
        var text = config[Key] ?? "";
        var addresses = ImmutableArray.CreateBuilder<IPAddress>();
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            addresses.Add(IpAddresses.TryParse(item, out var address)
                ? IpAddresses.Unmapped(address)
                : throw new InvalidOperationException($"{Key} (env Wirety__ServerAddresses) must list IP addresses separated by commas; '{item}' is not one."));
        return new ServerAddresses(addresses.ToImmutable());
    }

    /// <summary>The configured addresses plus the one this request arrived on.</summary>
    public ProtectedAddresses For(HttpContext http)
    {
        var local = http.Connection.LocalIpAddress is { } a ? IpAddresses.Unmapped(a) : null;
        return new ProtectedAddresses(local is null || Configured.Contains(local) ? Configured : Configured.Add(local));
    }
}

/// <summary>The server addresses one request must not route away (see <see cref="ServerAddresses"/>).</summary>
public sealed record ProtectedAddresses(ImmutableArray<IPAddress> Server)
{
    public static readonly ProtectedAddresses None = new([]);
}
