using System.Net;
using System.Net.Sockets;
using Wirety.Agent.Logging;

namespace Wirety.Agent.Running;

/// <summary>
/// The server's addresses, from the host of its URL: an address literal as it is, a name resolved on
/// each pass (DNS may move it) with the last good answer kept when resolution fails, so a full tunnel
/// whose DNS is down keeps its route to the server.
/// </summary>
public sealed class ServerAddresses(Uri server, AgentLog log)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private IReadOnlyList<IPAddress> _last = [];
    private bool _warned;

    public async Task<IReadOnlyList<IPAddress>> ResolveAsync(CancellationToken ct)
    {
        if (IPAddress.TryParse(server.IdnHost, out var literal)) return [literal];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Timeout);
        try
        {
            var found = (await Dns.GetHostAddressesAsync(server.IdnHost, timeout.Token).ConfigureAwait(false))
                .Where(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
                .Select(a => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a)
                .Distinct()
                .ToList();
            if (found.Count > 0)
            {
                _last = found;
                _warned = false;
            }
        }
        catch (Exception e) when (e is SocketException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            if (!_warned)
            {
                _warned = true;
                log.Warn($"cannot resolve the server's name {server.IdnHost} ({e.Message}); using its last known addresses" +
                         (_last.Count == 0 ? " (none yet)" : $" ({string.Join(", ", _last)})"));
            }
        }
        return _last;
    }
}
