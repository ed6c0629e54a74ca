namespace Wirety.Server.Sockets;

/// <summary>
/// How many WebSockets each credential (an agent session, an API token) has open on this instance, so one
/// credential cannot hold an unbounded number of them. Counted per instance, not across the cluster: a
/// client spread over N instances by a load balancer may hold up to N times the cap.
/// </summary>
public sealed class SocketCaps
{
    private readonly Dictionary<string, int> _open = [];
    private readonly Lock _gate = new();

    /// <summary>A slot for one more socket of <paramref name="credential"/>, or null when it already has <paramref name="cap"/> open.</summary>
    public IDisposable? TryOpen(string credential, int cap)
    {
        lock (_gate)
        {
            var open = _open.GetValueOrDefault(credential);
            if (open >= cap) return null;
            _open[credential] = open + 1;
        }
        return new Slot(this, credential);
    }

    public int OpenFor(string credential)
    {
        lock (_gate) return _open.GetValueOrDefault(credential);
    }

    private void Release(string credential)
    {
        lock (_gate)
        {
            if (!_open.TryGetValue(credential, out var open)) return;
            if (open <= 1) _open.Remove(credential);
            else _open[credential] = open - 1;
        }
    }

    private sealed class Slot(SocketCaps caps, string credential) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) caps.Release(credential);
        }
    }
}
