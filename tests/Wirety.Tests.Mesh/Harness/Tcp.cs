using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Wirety.Testing;

namespace Wirety.Tests.Mesh.Harness;

/// <summary>The outcome of a TCP probe: a connection attempt, or a message sent over an open connection and echoed back.</summary>
public sealed record TcpResult(string From, string To, bool Succeeded, TimeSpan Elapsed, string Detail)
{
    public override string ToString() => $"{From} → {To} tcp: {(Succeeded ? "ok" : "FAILED")} after {Elapsed.TotalSeconds:0.0} s: {Detail}";
}

/// <summary>
/// A TCP echo server inside a host's namespace, listening on every address of it (its WireGuard address
/// included): each connection gets back what it sends, and everything received is recorded, so a test
/// can tell whether a message arrived at all — not only whether its echo came back.
/// </summary>
public sealed class EchoServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly List<Socket> _connections = [];
    private readonly StringBuilder _received = new();
    private readonly Task _accepting;

    private EchoServer(MeshHost host, int port, Socket listener)
    {
        Host = host;
        Port = port;
        _listener = listener;
        _accepting = AcceptAsync();
    }

    public MeshHost Host { get; }
    public int Port { get; }

    /// <summary>Everything received so far, over all connections.</summary>
    public string Received
    {
        get { lock (_gate) return _received.ToString(); }
    }

    public static EchoServer Start(MeshHost host, int port)
    {
        var listener = NamespaceSockets.Open(host.Namespace, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(new IPEndPoint(IPAddress.Any, port));
            listener.Listen(16);
            return new EchoServer(host, port, listener);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var connection = await _listener.AcceptAsync(_stop.Token);
                lock (_gate) _connections.Add(connection);
                _ = EchoAsync(connection);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { } // stopped
    }

    private async Task EchoAsync(Socket connection)
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var n = await connection.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (n == 0) return;
                lock (_gate) _received.Append(Encoding.UTF8.GetString(buffer, 0, n));
                await connection.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { } // peer gone or stopped
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        lock (_gate)
            foreach (var connection in _connections) connection.Dispose();
        await _accepting;
        _stop.Dispose();
    }

    public override string ToString() => $"echo server {Host.Role}:{Port}";
}

/// <summary>A TCP connection opened from inside a host's namespace to an <see cref="EchoServer"/>.</summary>
public sealed class TcpConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly StringBuilder _echoed = new();

    private TcpConnection(Socket socket, string from, string to)
    {
        _socket = socket;
        From = from;
        To = to;
    }

    public string From { get; }
    public string To { get; }

    /// <summary>
    /// Connects within <paramref name="timeout"/>; on failure the result says why (no answer to the SYN:
    /// dropped; refused; unreachable) and no connection is returned.
    /// </summary>
    public static async Task<(TcpConnection? Connection, TcpResult Result)> ConnectAsync(MeshHost from, string address, string toName, int port, TimeSpan timeout)
    {
        var to = $"{toName} ({address}:{port})";
        var clock = Stopwatch.StartNew();
        var socket = NamespaceSockets.Open(from.Namespace, SocketType.Stream, ProtocolType.Tcp);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Parse(address), port), cts.Token);
            return (new TcpConnection(socket, from.Role, to), new TcpResult(from.Role, to, true, clock.Elapsed, $"connected from {socket.LocalEndPoint}"));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
            socket.Dispose();
            var why = e is SocketException s ? $"{s.SocketErrorCode}: {s.Message}" : $"no answer to the SYN within {timeout.TotalSeconds:0} s";
            return (null, new TcpResult(from.Role, to, false, clock.Elapsed, $"not connected ({why})"));
        }
    }

    /// <summary>Connects, exchanges one message with the echo server and closes: whether a new connection can carry data.</summary>
    public static async Task<TcpResult> ProbeAsync(MeshHost from, string address, string toName, int port, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var (connection, connected) = await ConnectAsync(from, address, toName, port, timeout);
        if (connection is null) return connected;
        using (connection)
        {
            var exchanged = await connection.ExchangeAsync($"probe {Guid.NewGuid():N}\n", timeout - clock.Elapsed);
            return exchanged with { Elapsed = clock.Elapsed, Detail = $"{connected.Detail}; {exchanged.Detail}" };
        }
    }

    /// <summary>Probes until one probe succeeds or <paramref name="timeout"/> passes (each failed attempt waits its own time).</summary>
    public static async Task<TcpResult> ProbeUntilSucceededAsync(MeshHost from, string address, string toName, int port, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            var result = await ProbeAsync(from, address, toName, port, TimeSpan.FromSeconds(2));
            if (result.Succeeded || clock.Elapsed >= timeout)
                return result with { Elapsed = clock.Elapsed, Detail = $"attempt {attempt}: {result.Detail}" };
            if (result.Elapsed < TimeSpan.FromMilliseconds(200)) await Task.Delay(200); // refused or unreachable fail at once
        }
    }

    /// <summary>Sends <paramref name="message"/> and waits for its echo; fails if the echo does not come back within <paramref name="timeout"/>.</summary>
    public async Task<TcpResult> ExchangeAsync(string message, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var label = message.Trim();
        using var cts = new CancellationTokenSource(timeout > TimeSpan.Zero ? timeout : TimeSpan.FromMilliseconds(1));
        try
        {
            await _socket.SendAsync(Encoding.UTF8.GetBytes(message), SocketFlags.None, cts.Token);
            var buffer = new byte[4096];
            while (!_echoed.ToString().Contains(message, StringComparison.Ordinal))
            {
                var n = await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                if (n == 0) return new TcpResult(From, To, false, clock.Elapsed, $"sent '{label}'; the server closed the connection");
                _echoed.Append(Encoding.UTF8.GetString(buffer, 0, n));
            }
            return new TcpResult(From, To, true, clock.Elapsed, $"sent '{label}', echoed back");
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            var why = e is OperationCanceledException ? $"no echo within {timeout.TotalSeconds:0} s" : e.Message;
            return new TcpResult(From, To, false, clock.Elapsed, $"sent '{label}'; {why}");
        }
    }

    public void Dispose() => _socket.Dispose();
}
