using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Wirety.Events.Agent;
using Wirety.Server.Auth;
using Wirety.Server.Limits;
using Wirety.Server.LiveChannel;
using Wirety.Server.Sockets;

namespace Wirety.Server.Agents;

/// <summary>
/// The agents connected to this instance over <c>/api/v1/agent/ws</c>, by peer. The server only sends
/// (config-changed notices, or signed delta envelopes to sockets opened with <c>?deltas=1</c>), through each socket's own queue (<see cref="HubConnection"/>, the same design
/// as the admins' live channel), so a stuck agent cannot hold up a push to the others.
/// </summary>
public sealed class AgentSockets(PeerPresence presence, SocketCaps caps, IOptions<LimitsOptions> limits, IHostApplicationLifetime lifetime,
    ILogger<AgentSockets> log)
{
    /// <summary>Config-changed notices an agent may have waiting; each supersedes the ones before, so a full queue means a dead agent.</summary>
    private const int SendQueueCapacity = 32;
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<Agent, byte>> _byPeer = new();

    private sealed record Agent(AgentIdentity Identity, HubConnection Connection, bool Deltas);

    public int Count => _byPeer.Values.Sum(c => c.Count);

    public bool IsConnected(Guid peerId) => _byPeer.TryGetValue(peerId, out var c) && !c.IsEmpty;

    /// <summary>The agents connected here right now.</summary>
    public IReadOnlyList<AgentIdentity> Connected() => _byPeer.Values.SelectMany(c => c.Keys).Select(a => a.Identity).ToList();

    /// <summary>
    /// Runs one agent connection until it closes (or the server stops: then it is closed with 1001). A session
    /// with <see cref="LimitsOptions.SocketsPerAgentSession"/> sockets open here already is refused with a 429.
    /// </summary>
    public async Task RunAsync(HttpContext http)
    {
        var identity = AgentIdentity.Of(http.User);
        var options = limits.Value;
        using var accepted = await WebSocketEndpoint.AcceptAsync(http, caps, "session:" + identity.SessionId, options.SocketsPerAgentSession,
            "agent session", options.SocketRetryAfter);
        if (accepted is null) return;
        var agent = new Agent(identity, new HubConnection(accepted.Socket, $"peer {identity.PeerId}", SendQueueCapacity, log),
            Deltas: http.Request.Query["deltas"] == "1");
        _byPeer.GetOrAdd(identity.PeerId, _ => new())[agent] = 0;
        presence.SocketOpened(identity.PeerId, identity.NetworkId);
        log.LogInformation("Agent for peer {PeerId} connected", identity.PeerId);
        try
        {
            await agent.Connection.RunAsync(http.RequestAborted, lifetime.ApplicationStopping);
        }
        finally
        {
            presence.SocketClosed(identity.PeerId);
            if (_byPeer.TryGetValue(identity.PeerId, out var set)) set.TryRemove(agent, out _);
            log.LogInformation("Agent for peer {PeerId} disconnected", identity.PeerId);
        }
    }

    public void NotifyConfigChanged(Guid peerId, long version) => NotifyConfigChanged([peerId], version);

    /// <summary>Tells the agents of these peers connected here that their config is now at <paramref name="version"/>. Never blocks.</summary>
    public void NotifyConfigChanged(IEnumerable<Guid> peerIds, long version)
    {
        byte[]? payload = null;
        foreach (var peerId in peerIds)
        {
            if (!_byPeer.TryGetValue(peerId, out var agents)) continue;
            payload ??= JsonSerializer.SerializeToUtf8Bytes(
                new AgentMessage(AgentMessage.ConfigChanged, version.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                AgentProtocolJson.Default.AgentMessage);
            foreach (var agent in agents.Keys.Where(a => !a.Deltas))
                if (!agent.Connection.TrySend(payload) && agents.TryRemove(agent, out _))
                    agent.Connection.Drop($"its send queue is full ({SendQueueCapacity} notices)");
        }
    }

    /// <summary>The peers of this network with a delta socket (<c>?deltas=1</c>) open here.</summary>
    public IReadOnlyList<Guid> DeltaPeers(Guid networkId) =>
        _byPeer.Values.SelectMany(c => c.Keys).Where(a => a.Deltas && a.Identity.NetworkId == networkId).Select(a => a.Identity.PeerId).Distinct().ToList();

    /// <summary>
    /// Queues one peer's envelopes, in order, on each of its delta sockets here. Never blocks; a socket whose queue
    /// cannot take them all is dropped (its agent reconnects and fetches its config).
    /// </summary>
    public void SendEnvelopes(Guid peerId, IReadOnlyList<byte[]> envelopes)
    {
        if (!_byPeer.TryGetValue(peerId, out var agents)) return;
        foreach (var agent in agents.Keys.Where(a => a.Deltas))
            if (!envelopes.All(agent.Connection.TrySend) && agents.TryRemove(agent, out _))
                agent.Connection.Drop($"its send queue is full ({SendQueueCapacity} envelopes)");
    }

    /// <summary>Closes the connections whose session is no longer valid (1008, policy violation: the agent re-checks its session).</summary>
    public async Task DisconnectWhereAsync(Func<AgentIdentity, bool> revoked, string reason)
    {
        foreach (var (peerId, agents) in _byPeer)
            foreach (var agent in agents.Keys.Where(a => revoked(a.Identity)))
            {
                agents.TryRemove(agent, out _);
                await agent.Connection.RevokeAsync(reason);
                log.LogInformation("Closed the socket of peer {PeerId}: {Reason}", peerId, reason);
            }
    }
}
