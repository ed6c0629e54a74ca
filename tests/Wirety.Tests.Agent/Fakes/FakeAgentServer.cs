using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Wirety.Events.Agent;

namespace Wirety.Tests.Agent.Fakes;

/// <summary>
/// A loopback stand-in for the server's agent API over real HTTP: <c>GET config</c> (with ETag/304),
/// <c>POST heartbeat</c>, <c>POST rotate-key</c> (answered by <see cref="RotateKey"/>) and the WebSocket, whose
/// text frames the test sends with <see cref="SendAsync"/>. Records what the agent asked for.
/// </summary>
public sealed class FakeAgentServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<WebSocket> _socket = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _loop;
    private int _configFetches;
    private int _sockets;

    /// <summary>WebSocket connections accepted so far.</summary>
    public int SocketConnections => Volatile.Read(ref _sockets);

    public FakeAgentServer()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Url = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Url.ToString());
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public Uri Url { get; }

    /// <summary>What GET config answers; its version doubles as the ETag.</summary>
    public AgentConfig? Config { get; set; }

    /// <summary>The answer to POST rotate-key: status and JSON body; the request body is kept in <see cref="RotateRequests"/>.</summary>
    public Func<RotateKeyRequest?, (int Status, string Body)> RotateKey { get; set; } = _ => (404, "");

    public ConcurrentQueue<RotateKeyRequest?> RotateRequests { get; } = new();
    public ConcurrentQueue<string?> Authorizations { get; } = new();

    /// <summary>Full config answers (200) so far; a 304 does not count.</summary>
    public int ConfigFetches => Volatile.Read(ref _configFetches);

    public int ConfigRequests { get; private set; }

    /// <summary>The query string of the agent's WebSocket request ("" without one).</summary>
    public string? SocketQuery { get; private set; }

    public Task<WebSocket> Connected => _socket.Task;

    public async Task SendAsync(byte[] utf8)
    {
        var socket = await Connected.WaitAsync(TimeSpan.FromSeconds(30));
        await socket.SendAsync(utf8, WebSocketMessageType.Text, endOfMessage: true, _stop.Token);
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var path = request.Url!.AbsolutePath;
        Authorizations.Enqueue(request.Headers["Authorization"]);
        try
        {
            if (path.EndsWith("/agent/ws", StringComparison.Ordinal) && request.IsWebSocketRequest)
            {
                SocketQuery = request.Url.Query;
                Interlocked.Increment(ref _sockets);
                var accepted = await context.AcceptWebSocketAsync(subProtocol: null);
                _socket.TrySetResult(accepted.WebSocket);
                // Hold it open until the agent or the test closes it.
                var buffer = new byte[1024];
                while (accepted.WebSocket.State == WebSocketState.Open)
                {
                    var received = await accepted.WebSocket.ReceiveAsync(buffer, _stop.Token);
                    if (received.MessageType == WebSocketMessageType.Close) break;
                }
                return;
            }
            if (path.EndsWith("/agent/config", StringComparison.Ordinal))
            {
                ConfigRequests++;
                var config = Config;
                if (config is null)
                {
                    response.StatusCode = 503;
                }
                else if (request.Headers["If-None-Match"] == $"\"{config.Version}\"")
                {
                    response.StatusCode = 304;
                }
                else
                {
                    Interlocked.Increment(ref _configFetches);
                    response.StatusCode = 200;
                    response.Headers["ETag"] = $"\"{config.Version}\"";
                    await WriteJsonAsync(response, JsonSerializer.SerializeToUtf8Bytes(config, AgentProtocolJson.Default.AgentConfig));
                }
            }
            else if (path.EndsWith("/agent/rotate-key", StringComparison.Ordinal) && request.HttpMethod == "POST")
            {
                RotateKeyRequest? body;
                try
                {
                    body = await JsonSerializer.DeserializeAsync(request.InputStream, AgentProtocolJson.Default.RotateKeyRequest);
                }
                catch (JsonException)
                {
                    body = null;
                }
                RotateRequests.Enqueue(body);
                var (status, text) = RotateKey(body);
                response.StatusCode = status;
                await WriteJsonAsync(response, Encoding.UTF8.GetBytes(text));
            }
            else if (path.EndsWith("/agent/heartbeat", StringComparison.Ordinal))
            {
                response.StatusCode = 204;
            }
            else
            {
                response.StatusCode = 404;
            }
            response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or WebSocketException or ObjectDisposedException or OperationCanceledException or IOException)
        {
            // the agent went away
        }
    }

    private static async Task WriteJsonAsync(HttpListenerResponse response, byte[] body)
    {
        response.ContentType = "application/json";
        response.ContentLength64 = body.Length;
        await response.OutputStream.WriteAsync(body);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Close(); // not Stop first: see RevokedSessionTests.Dispose
        try { await _loop; } catch (Exception e) when (e is ObjectDisposedException or HttpListenerException) { }
        _stop.Dispose();
    }
}
