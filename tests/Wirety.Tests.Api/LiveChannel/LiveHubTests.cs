using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using Wirety.Server.LiveChannel;

namespace Wirety.Tests.Api.LiveChannel;

/// <summary>
/// The hub's fan-out with sockets whose behaviour the test controls: a client that stops reading makes a
/// real socket's send hang once the TCP buffers fill, which TestServer's in-memory sockets never do.
/// </summary>
public sealed class LiveHubTests : IAsyncLifetime
{
    private static readonly LiveSocketOwner Owner = new(Guid.NewGuid(), null);
    private readonly LiveHub _hub = new(new LiveChannelOptions { SendQueueCapacity = 4 }, NullLogger<LiveHub>.Instance);

    public Task InitializeAsync() => _hub.StartAsync(CancellationToken.None);

    public async Task DisposeAsync()
    {
        await _hub.StopAsync(CancellationToken.None);
        _hub.Dispose();
    }

    [Fact]
    public async Task a_socket_that_stops_reading_is_disconnected_without_holding_up_the_others()
    {
        var healthy = new FakeClientSocket();
        var stuck = new FakeClientSocket { SendsHang = true };
        var servingHealthy = _hub.ServeAsync(healthy, "healthy", Owner, CancellationToken.None, CancellationToken.None);
        var servingStuck = _hub.ServeAsync(stuck, "stuck", Owner, CancellationToken.None, CancellationToken.None);
        Assert.Equal("""{"type":"ready"}""", await healthy.NextAsync());

        // The stuck socket's first send (ready) never completes; 4 notices fill its queue and the 5th overflows it.
        var network = Guid.NewGuid();
        for (var version = 1; version <= 5; version++)
        {
            _hub.Publish(LiveNotice.Network(network, version));
            Assert.Contains($"\"version\":{version}", await healthy.NextAsync());
        }

        await servingStuck.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(stuck.Aborted);
        Assert.Equal(1, _hub.Count);

        // The healthy one carries on.
        _hub.Publish(LiveNotice.Network(network, 6));
        Assert.Contains("\"version\":6", await healthy.NextAsync());
        Assert.False(servingHealthy.IsCompleted);
    }

    [Fact]
    public async Task a_client_close_is_answered_and_the_socket_leaves_the_hub()
    {
        var client = new FakeClientSocket();
        var serving = _hub.ServeAsync(client, "client", Owner, CancellationToken.None, CancellationToken.None);
        await client.NextAsync();
        client.SendClose();

        await serving.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
        Assert.False(client.Aborted);
        Assert.Equal(0, _hub.Count);
    }

    [Fact]
    public async Task stopping_the_server_closes_the_sockets_with_going_away()
    {
        var client = new FakeClientSocket();
        using var stopping = new CancellationTokenSource();
        var serving = _hub.ServeAsync(client, "client", Owner, CancellationToken.None, stopping.Token);
        await client.NextAsync();

        await stopping.CancelAsync();
        await serving.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, client.CloseStatus);
    }

    [Fact]
    public async Task notices_published_with_nobody_listening_are_not_queued_for_a_later_listener()
    {
        // A hub whose fan-out loop starts only after a listener joined: anything queued before would reach it.
        using var hub = new LiveHub(new LiveChannelOptions { SendQueueCapacity = 4 }, NullLogger<LiveHub>.Instance);
        var network = Guid.NewGuid();
        for (var version = 1; version <= 1_000; version++) hub.Publish(LiveNotice.Network(network, version));

        var client = new FakeClientSocket();
        var serving = hub.ServeAsync(client, "late", Owner, CancellationToken.None, CancellationToken.None);
        Assert.Equal("""{"type":"ready"}""", await client.NextAsync());
        await hub.StartAsync(CancellationToken.None);
        hub.Publish(LiveNotice.Network(network, 1_001));
        Assert.Contains("\"version\":1001", await client.NextAsync());

        client.SendClose();
        await serving.WaitAsync(TimeSpan.FromSeconds(10));
        await hub.StopAsync(CancellationToken.None);
    }

    /// <summary>
    /// The server's view of a client socket. Sends are handed to the test (or hang when <see cref="SendsHang"/>);
    /// a receive waits until the client closes or the socket is aborted, like a client that never writes.
    /// </summary>
    private sealed class FakeClientSocket : WebSocket
    {
        private readonly Channel<string> _sent = Channel.CreateUnbounded<string>();
        private readonly TaskCompletionSource _clientClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _aborted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private WebSocketState _state = WebSocketState.Open;
        private WebSocketCloseStatus? _closeStatus;

        public bool SendsHang { get; init; }
        public bool Aborted => _aborted.Task.IsCompleted;

        public async Task<string> NextAsync() => await _sent.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        public void SendClose() => _clientClosed.TrySetResult();

        public override WebSocketCloseStatus? CloseStatus => _closeStatus;
        public override string? CloseStatusDescription => null;
        public override WebSocketState State => _state;
        public override string? SubProtocol => null;

        public override void Abort()
        {
            _state = WebSocketState.Aborted;
            _aborted.TrySetResult();
        }

        public override async Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken ct)
        {
            if (_state != WebSocketState.Open) throw new WebSocketException(WebSocketError.InvalidState);
            if (SendsHang)
            {
                await _aborted.Task.WaitAsync(ct);
                throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely);
            }
            _sent.Writer.TryWrite(Encoding.UTF8.GetString(buffer));
        }

        public override async Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken ct)
        {
            var which = await Task.WhenAny(_clientClosed.Task, _aborted.Task).WaitAsync(ct);
            if (which == _aborted.Task) throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely);
            _state = _state == WebSocketState.CloseSent ? WebSocketState.Closed : WebSocketState.CloseReceived;
            return new WebSocketReceiveResult(0, WebSocketMessageType.Close, true, WebSocketCloseStatus.NormalClosure, null);
        }

        public override Task CloseOutputAsync(WebSocketCloseStatus status, string? description, CancellationToken ct)
        {
            _closeStatus = status;
            _state = _state == WebSocketState.CloseReceived ? WebSocketState.Closed : WebSocketState.CloseSent;
            if (_state == WebSocketState.CloseSent) _clientClosed.TrySetResult(); // the client answers the close
            return Task.CompletedTask;
        }

        public override Task CloseAsync(WebSocketCloseStatus status, string? description, CancellationToken ct) =>
            CloseOutputAsync(status, description, ct);

        public override void Dispose() { }
    }
}
